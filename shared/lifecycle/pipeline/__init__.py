"""Pipeline: planner, dispatcher and sender, the one path every occasion takes."""
