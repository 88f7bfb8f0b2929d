"""Marketer API: Powertools REST routers, one per resource, behind IAM-authorized API Gateway."""
