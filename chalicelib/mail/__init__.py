"""Outbox mail: what each kind says and to whom (compose), how it looks (render), and sending it."""
