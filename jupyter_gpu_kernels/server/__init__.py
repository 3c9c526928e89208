"""The jupyter_server extension: REST handlers, background pulls."""
