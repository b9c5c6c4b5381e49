"""Where the bundled sample exports live, so the project runs without ../shared."""

from pathlib import Path

SAMPLES = Path(__file__).with_name("data")


def sample_path(name: str) -> Path:
    return SAMPLES / name
