"""Store: all DynamoDB access.

PynamoDB models, customers, campaigns, orders and the delivery ledger.
"""
