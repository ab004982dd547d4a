"""Capture: run each framework's step in its own subprocess and write a dump folder."""

from xlalens.capture._api import Capture, capture, dump
from xlalens.capture._dump import GRAPHS_ONLY, DumpResult, Step, write_dump

__all__ = ["GRAPHS_ONLY", "Capture", "DumpResult", "Step", "capture", "dump", "write_dump"]
