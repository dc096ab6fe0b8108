"""Runnable PyTorch scripts that reproduce what a page shows, one module per page.

Each snippet uses only torch (and the standard library), runs on its own, and prints the page's key
numbers as `name: key=value ...` lines so the tests can compare them with the page.
"""
