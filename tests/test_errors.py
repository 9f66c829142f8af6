"""Errors reach the user as one line: UserError, OS errors, and errors re-raised from DataLoader workers."""

import argparse
import errno

import pytest
from torch.utils.data import DataLoader, Dataset

from slowfast_custom.errors import DataError, UserError, number_in, os_error_text, run_cli


class _Broken(Dataset):
    def __init__(self, error: Exception) -> None:
        self.error = error

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index):
        raise self.error


@pytest.mark.parametrize("error, line", [
    (DataError("/d/frames/v/v_000001.jpg", "cannot read frame of video v (truncated JPEG)", hint="Re-extract v"),
     "error: /d/frames/v/v_000001.jpg: cannot read frame of video v (truncated JPEG). Re-extract v"),
    (DataError("/d/train.csv", "frame_id 'x' is not an integer", 7), "error: /d/train.csv:7: frame_id 'x' is not"),
    (UserError("TRAIN.BATCH_SIZE must be >= 1, got 0"), "error: TRAIN.BATCH_SIZE must be >= 1, got 0"),
])
@pytest.mark.parametrize("workers", [0, 1])
def test_a_loader_worker_error_is_the_same_one_line(error, line, workers, capsys):
    def main():
        for _ in DataLoader(_Broken(error), batch_size=1, num_workers=workers):
            pass

    assert run_cli(main) == 2
    err = capsys.readouterr().err
    assert err.startswith(line) and err.count("\n") == 1 and "Traceback" not in err


def test_os_errors_are_one_line_with_path_reason_and_hint(tmp_path, capsys):
    (tmp_path / "file").write_text("x")

    def main():
        (tmp_path / "file" / "out").mkdir(parents=True)

    assert run_cli(main) == 2
    assert capsys.readouterr().err == (f"error: {tmp_path / 'file' / 'out'}: Not a directory "
                                       "(a part of the path is a file, not a folder)\n")
    assert os_error_text(OSError(errno.ENOSPC, "No space left on device", "/x/ckpt.pyth")) == (
        "/x/ckpt.pyth: No space left on device (free some space or write elsewhere)")
    assert os_error_text(PermissionError(errno.EACCES, "Permission denied", "/ro/a", None, "/ro/b")) == (
        "/ro/a -> /ro/b: Permission denied (check the permissions, or write elsewhere)")


def test_number_in_range_checks_command_line_values():
    fraction = number_in(float, 0, 1)
    assert fraction("0.5") == 0.5 and number_in(int, 1)("3") == 3
    for parse, text in ((fraction, "1.5"), (fraction, "nan"), (number_in(float, 0, low_ok=False), "0"),
                        (number_in(int, 1), "0"), (number_in(int, 1), "2.5")):
        with pytest.raises(argparse.ArgumentTypeError):
            parse(text)
