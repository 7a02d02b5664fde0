"""The one native module, models._native (the classifier's hot path, models/native/); the rest is pyproject.toml."""

from setuptools import Extension, setup

SOURCES = ["models/native/module.c", "models/native/features.c", "models/native/forest.c", "models/native/pii.c"]

setup(ext_modules=[Extension("models._native", SOURCES, depends=["models/native/native.h"],
                             extra_compile_args=["-O3", "-std=c11", "-Wall"])])
