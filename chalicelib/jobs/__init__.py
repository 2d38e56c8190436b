"""Background work: the schedules, the outbox stream consumer and the SES feedback subscriber."""
