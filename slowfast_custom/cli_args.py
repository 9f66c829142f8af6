"""The tools' option types (argparse ``type=``): numbers, paths, hosts and devices checked before any work starts.

A bad value is argparse's usage line and one ``error: argument --opt: ...``
line, exit 2, so a tool never starts work (or writes a file) on a value it
would refuse or, worse, silently change later. Standard library only: the
device check imports torch only when a value other than ``cpu`` is given.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import os
import socket
from pathlib import Path
from typing import Callable

from slowfast_custom.ava.naming import video_id_list_arg, video_range_arg
from slowfast_custom.ava.timing import DEFAULT_SPLIT_DISTANCE_SEC
from slowfast_custom.errors import number_in
from slowfast_custom.fileio import existing_ancestor

positive_int = number_in(int, 1)
non_negative_int = number_in(int, 0)
positive_float = number_in(float, 0, low_ok=False)
non_negative_float = number_in(float, 0)
fraction = number_in(float, 0, 1)
positive_fraction = number_in(float, 0, 1, low_ok=False)
port = number_in(int, 0, 65535)
jpeg_quality = number_in(int, 1, 100)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every option's help ends with its default (unless it says it already, or there is none to say): one rule
    for every tool's --help (tests/test_cli.py holds every subcommand to it; an option needs a help text to show
    it). Descriptions and epilogs keep their line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (not action.option_strings or "default" in text.lower() or action.default in (None, False, [], "")
                or action.default is argparse.SUPPRESS):
            return text
        return f"{text} (default: %(default)s)"


def optional(parse: Callable) -> Callable:
    """``parse``, but an empty value (an option's "none" default) is kept as it is."""
    def parse_or_empty(text: str):
        return text if text == "" else parse(text)

    parse_or_empty.__name__ = parse.__name__
    return parse_or_empty


def existing_file(text: str) -> Path:
    """A file that exists and can be read."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: file not found")
    if not os.access(path, os.R_OK):
        raise argparse.ArgumentTypeError(f"{text}: cannot read the file (check its permissions)")
    return path


def existing_dir(text: str) -> Path:
    """A folder that exists and can be read."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: folder not found")
    if not os.access(path, os.R_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text}: cannot read the folder (check its permissions)")
    return path


def output_dir(text: str) -> Path:
    """A folder to write into: it exists and is writable, or it can be made (its nearest existing parent is a
    writable folder). Nothing is created here."""
    path = Path(text)
    probe = path if path.exists() else existing_ancestor(path)
    if not probe.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text}: cannot write in {probe} (check its permissions, or write elsewhere)")
    return path


def output_file(text: str) -> Path:
    """A file to write: not a folder, and its folder writable or makeable."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file name")
    output_dir(str(path.parent))
    return path


def local_host(text: str) -> str:
    """A host name or address that resolves to an address of this machine (so a server can listen on it)."""
    try:
        infos = socket.getaddrinfo(text, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        reason = err.strerror if isinstance(err, socket.gaierror) else str(err)
        raise argparse.ArgumentTypeError(f"{text}: cannot resolve the host name ({reason}); give 127.0.0.1 or an "
                                         "address of this machine") from None
    for family, _, _, _, sockaddr in infos:
        address = sockaddr[0]
        if ipaddress.ip_address(address.split("%")[0]).is_loopback:
            return text
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((address, 0))
                return text
            except OSError as err:
                if err.errno != errno.EADDRNOTAVAIL:
                    return text  # local, but not bindable for another reason: the server names it
    raise argparse.ArgumentTypeError(f"{text} is not an address of this machine; give 127.0.0.1 (this machine "
                                     "only) or one of its own addresses")


def device(text: str) -> str:
    """``cpu`` or ``cuda[:N]`` naming a GPU that exists (no silent run on the CPU when none does)."""
    if text == "cpu":
        return text
    kind, _, index = text.partition(":")
    if kind != "cuda" or (index and not index.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a device; give cpu, cuda or cuda:N")
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        raise argparse.ArgumentTypeError(f"{text}: no CUDA GPU is visible on this machine; give --device cpu")
    if index and int(index) >= count:
        raise argparse.ArgumentTypeError(f"{text}: only {count} CUDA GPU(s) are visible (cuda:0 to cuda:{count - 1})")
    return text



def add_split_options(parser: argparse.ArgumentParser) -> None:
    """The importers' options saying which videos, or seconds of a video, go to train and val
    (``labelling.ava_writer.SplitSpec``)."""
    parser.add_argument("--val-videos", type=video_id_list_arg, default=None,
                        help="comma-separated videos for val (the rest: train)")
    parser.add_argument("--train-videos", type=video_id_list_arg, default=None,
                        help="comma-separated videos for train (with --val-videos)")
    parser.add_argument("--val-ratio", type=fraction, default=0.2,
                        help="share of videos for val without lists or ranges (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random split by ratio")
    parser.add_argument("--val-range", type=video_range_arg, action="append", default=[], metavar="VIDEO:FIRST-LAST",
                        help="seconds FIRST..LAST of VIDEO go to val, the rest of it to train but for the seconds "
                             "less than --split-distance from the range (repeatable; the other videos: train unless "
                             "--val-videos)")
    parser.add_argument("--split-distance", type=positive_int, default=DEFAULT_SPLIT_DISTANCE_SEC, metavar="SEC",
                        help="least seconds between a train and a val second of one video: the model's clip span "
                             "rounded up, ceil(DATA.NUM_FRAMES * DATA.SAMPLING_RATE / DATA.TARGET_FPS) "
                             "(default %(default)s: SlowFast 32x2)")
