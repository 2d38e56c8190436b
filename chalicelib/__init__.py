"""uketsuke's domain code: one module per area (registrations, mail, reminders, closing, ...)."""
