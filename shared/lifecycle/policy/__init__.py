"""Send policies: every rule that can stop a message, each with a reason code."""
