import pytest

import scoringkit as sk

SAD_STORY = (
    "The funeral was grey and silent. She wept alone beside the grave, grieving for her lost son, "
    "and the cold rain fell slowly on the empty, lonely hills. Nothing would ever be the same; the house "
    "was dark and quiet, and every room held only sorrow and tears."
)
JOYFUL_STORY = (
    "The whole village laughed and danced in the sunny square! Children cheered, music played, and "
    "everyone celebrated the wonderful wedding with joy, singing happy songs and hugging their friends "
    "until the bright, glorious evening exploded with fireworks and delight!"
)


@pytest.fixture
def sad_story():
    return SAD_STORY


@pytest.fixture
def joyful_story():
    return JOYFUL_STORY


@pytest.fixture(scope="session")
def example_soundtrack():
    return sk.score_story(sk.example_story())


@pytest.fixture
def tiny_score():
    return sk.Score(
        [sk.Track("melody", 73, [sk.Note(72, 0, 1, 90), sk.Note(74, 1, 1, 80)]),
         sk.Track("bass", 33, [sk.Note(36, 0, 2, 70)])],
        tempo=120, key="D major",
    )
