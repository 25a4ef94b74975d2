"""Pure engine code: no IO, no database, no model loading, no logging configuration."""
