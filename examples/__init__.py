"""Runnable funcnn examples, one per topic.

``python -m examples`` lists them and ``python -m examples run NAME`` runs them; each is
also a script of its own (``python -m examples.training --epochs 10``) and an importable
module whose logic lives in functions. The ``seed`` group follows the introductory
PyTorch article's sections: tensors, autograd, feedforward, training, jax_ideas.
"""
