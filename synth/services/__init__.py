"""Service functions shared by the CLI and the API: they take an engine and a session."""
