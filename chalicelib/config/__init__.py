"""The composition root: deployment settings and the services every handler uses."""
