"""The one native module: models/_native.c (classifier features and tree scoring); the rest is pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("models._native", ["models/_native.c"], extra_compile_args=["-O3", "-std=c11"])])
