"""The delivery edges of synth: the FastAPI service and the ``synth`` CLI."""
