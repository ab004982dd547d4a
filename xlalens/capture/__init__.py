"""Capture: run each framework's step in its own subprocess and write a dump folder."""

from xlalens.capture._api import Capture, capture, dump
from xlalens.capture._dump import DumpResult, write_dump

__all__ = ["Capture", "DumpResult", "capture", "dump", "write_dump"]
