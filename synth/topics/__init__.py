"""Topic modelling on stored passage embeddings (BERTopic) and its vocabulary."""

from synth.topics.pipeline import FittedTopic, TopicFit, cap_outliers, fit_topics, resolve_sizes

__all__ = ["FittedTopic", "TopicFit", "cap_outliers", "fit_topics", "resolve_sizes"]
