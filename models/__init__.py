"""The model files facegate ships, installed as the package data of ``facegate.models``.

This folder stays at the top of the repository (models/MODEL_CARD.md says where each file
comes from and under which terms); the wheel carries it as ``facegate/models`` and the code
finds the files with ``importlib.resources``, wherever facegate is installed. The build
scripts in ``tools/`` are not part of the wheel.
"""
