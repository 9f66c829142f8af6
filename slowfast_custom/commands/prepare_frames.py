"""Write the frames once at the largest size the config scales them to (the frame store), for faster loading.

    python tools/prepare_frames.py datasets/mine [--cfg configs/SLOWFAST_32x2_R101_custom.yaml] [KEY VALUE ...]

Reads AVA.FRAME_DIR (DATASET/frames) and writes DATASET/frames_<size>/ with
the same file names, the short side at max(DATA.TRAIN_JITTER_SCALES[1],
DATA.TEST_CROP_SIZE), and last frame_store.json. Training then reads it
(DATA_LOADER.FRAME_STORE auto) with the same shapes and boxes as from the
originals. A rerun resumes; rerun it after re-extracting frames. Storing no
video at all (a folder with other files than JPEG frames in every video) is an
error: training would silently read the originals.
"""

import argparse
import sys
from pathlib import Path

from slowfast_custom import cli_args
from slowfast_custom.errors import run_cli

DEFAULT_CFG = "SLOWFAST_32x2_R101_custom.yaml"  # packaged (slowfast_custom/configs/)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                     formatter_class=cli_args.HelpFormatter)
    parser.add_argument("data", type=Path, help="dataset folder (DATA.PATH_TO_DATA_DIR)")
    parser.add_argument("--cfg", dest="cfg_file", default=str(DEFAULT_CFG), help="training config (sizes, folders)")
    parser.add_argument("--out", type=cli_args.output_dir, default=None,
                        help="store folder (default: <AVA.FRAME_DIR>_<size>)")
    parser.add_argument("--quality", type=cli_args.jpeg_quality, default=95,
                        help="JPEG quality of the stored frames (default 95)")
    parser.add_argument("--workers", type=cli_args.positive_int, default=None, help="videos written at the same time")
    parser.add_argument("opts", nargs="*", default=[], help="KEY VALUE config overrides")
    args = parser.parse_intermixed_args(argv)
    # Imported once the command line is read: --help answers without OpenCV or the config machinery.
    from slowfast_custom.config import load_config
    from slowfast_custom.data.frame_store import default_store_dir, prepare_frame_store, store_short_side

    args.opts = ["DATA.PATH_TO_DATA_DIR", str(args.data), "NUM_GPUS", "0", *args.opts]
    cfg = load_config(args)
    size = store_short_side(cfg)
    frame_dir = Path(cfg.AVA.FRAME_DIR)
    out = args.out or default_store_dir(frame_dir, size)
    report = prepare_frame_store(frame_dir, out, size, args.quality, args.workers)
    print(f"{out}: {report.videos} videos, {report.frames} frames ({report.written} written now) at short side "
          f"{size} px, {report.bytes_out / 2**20:.1f} MiB from {report.bytes_in / 2**20:.1f} MiB, "
          f"{report.seconds:.1f} s")
    for video, why in report.not_stored.items():
        print(f"not stored (its original frames stay in use): {video}: {why}")
    if out != default_store_dir(frame_dir, size):
        print(f"Train with DATA_LOADER.FRAME_STORE {out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
