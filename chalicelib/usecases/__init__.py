"""Use cases: one module per thing people or jobs do, each a function over the table and plain values."""
