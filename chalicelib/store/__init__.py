"""Storage: the DynamoDB adapter with named failures, the single table's key schema, retrying lost races."""
