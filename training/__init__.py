"""Offline learning and evaluation: training the classifier and the verifier, the routing and
prequential evaluations, and the datasets they read from ../shared/data. Never imported by a
worker; the runtime model (``models/``) needs none of it (nor LightGBM)."""
