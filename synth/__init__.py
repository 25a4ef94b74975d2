"""synth: knowledge synthesis for learning systems in health and care improvement.

The engine is importable without the web layer; see :func:`synth.engine.build_engine`.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
