"""The sentence-meaning model: the real ONNX network and tokenizer, the cache of vectors,
and how Understanding uses it (the pure rule with a fake lookup)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bench.text_eval import load_shipped
from coach.core.meaning import Example, Meaning, closest_meaning, unique_examples
from coach.core.understanding import Understanding
from coach.meaning.cache import VectorCache
from coach.meaning.encoder import SentenceEncoder, Vectors
from coach.meaning.files import MeaningModelError, find_model_files
from coach.meaning.index import MeaningIndex
from coach.session.understand import ANNOUNCE_FROM, attach_meanings, first_start_notice
from coach.settings import Settings
from coach.settings.understanding import UnderstandingSettings

PAUSE = Meaning("pause")
STOP = Meaning("stop")
WARM_UP = Meaning.of("start_routine", {"routine": "warm-up"})


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder(find_model_files())


# The pure rule


def test_a_close_and_clear_meaning_is_taken() -> None:
    assert closest_meaning([(PAUSE, 0.82), (STOP, 0.60)], 0.75, 0.03) == (PAUSE, 0.82)


def test_nothing_close_enough_is_no_meaning() -> None:
    assert closest_meaning([(PAUSE, 0.70), (STOP, 0.40)], 0.75, 0.03) is None


def test_two_meanings_alike_are_a_guess_and_not_taken() -> None:
    assert closest_meaning([(PAUSE, 0.80), (STOP, 0.79)], 0.75, 0.03) is None


def test_no_meanings_is_no_meaning() -> None:
    assert closest_meaning([], 0.75, 0.03) is None


def test_the_first_meaning_of_a_repeated_sentence_wins() -> None:
    examples = unique_examples([Example("hold on", PAUSE), Example("hold on", STOP),
                                Example("stop", STOP)])
    assert examples == [Example("hold on", PAUSE), Example("stop", STOP)]


class FakeLookup:
    """A lookup that always answers the same ranking, and counts its calls."""

    def __init__(self, ranked: Sequence[tuple[Meaning, float]]) -> None:
        self.ranked = list(ranked)
        self.calls: list[str] = []

    def closest(self, text: str) -> Sequence[tuple[Meaning, float]]:
        self.calls.append(text)
        return self.ranked

    def prepare(self, texts: Sequence[str]) -> None:
        pass


@pytest.fixture(scope="module")
def shipped() -> Understanding:
    commands, faq = load_shipped()
    return Understanding(commands, faq)


def test_a_template_match_never_asks_the_model(shipped: Understanding) -> None:
    lookup = FakeLookup([(STOP, 0.99)])
    shipped.use_meanings(lookup)
    try:
        assert shipped.interpret("pause").name == "pause"
        assert lookup.calls == []
    finally:
        shipped.use_meanings(None)


def test_the_model_decides_only_what_the_rules_left_undecided(shipped: Understanding) -> None:
    lookup = FakeLookup([(WARM_UP, 0.9), (PAUSE, 0.5)])
    shipped.use_meanings(lookup)
    try:
        intent = shipped.interpret("lets get the blood flowing")
    finally:
        shipped.use_meanings(None)
    assert (intent.name, intent.slots) == ("start_routine", {"routine": "warm-up"})
    assert lookup.calls == ["lets get the blood flowing"]


def test_a_meaning_found_by_the_model_scores_below_a_destructive_commands_bar(
    shipped: Understanding,
) -> None:
    # the session asks before a destructive command below destructive_min_score (0.9)
    shipped.use_meanings(FakeLookup([(STOP, 0.99), (PAUSE, 0.2)]))
    try:
        intent = shipped.interpret("i reckon that is me finished for today mate")
    finally:
        shipped.use_meanings(None)
    assert intent.name == "stop"
    assert intent.score <= UnderstandingSettings().meaning_max_score
    assert intent.score < Settings().session.conversation.destructive_min_score


def test_the_red_flag_answer_is_never_traded_for_another(shipped: Understanding) -> None:
    text = "is sharp pain in my back a bad sign"
    chosen = shipped.interpret(text)  # word overlap, not a verbatim phrasing, finds it
    assert chosen.slots.get("id") == shipped.faq.going_on_id and chosen.score < 1.0
    shipped.use_meanings(FakeLookup([(Meaning.of("question", {"id": "soreness-normal"}), 0.99),
                                     (PAUSE, 0.1)]))
    try:
        assert shipped.interpret(text).slots == {"id": shipped.faq.going_on_id}
    finally:
        shipped.use_meanings(None)


def test_a_guess_names_only_a_command_clearly_nearest(shipped: Understanding) -> None:
    text = "i would rather not do this one"
    shipped.use_meanings(FakeLookup([(Meaning("next"), 0.7), (PAUSE, 0.5)]))
    try:
        assert shipped.interpret(text).name is None  # too far to act on
        guess = shipped.guess(text)
        assert guess is not None and guess.name == "next"
        assert shipped.guess("pause") is None  # understood: nothing to guess
        assert shipped.guess("why is that") is None  # a question gets its own line
        shipped.use_meanings(FakeLookup([(Meaning("next"), 0.7), (PAUSE, 0.68)]))
        assert shipped.guess(text) is None  # near two meanings alike
        shipped.use_meanings(FakeLookup([(Meaning("next"), 0.4)]))
        assert shipped.guess(text) is None  # near nothing
    finally:
        shipped.use_meanings(None)


@pytest.mark.parametrize("never", ["pain", "yes", "no", "question"])
def test_pain_answers_and_questions_are_never_guessed(shipped: Understanding,
                                                       never: str) -> None:
    shipped.use_meanings(FakeLookup([(Meaning(never), 0.7), (Meaning("next"), 0.66),
                                     (PAUSE, 0.5)]))
    try:
        guess = shipped.guess("i would rather not do this one")
    finally:
        shipped.use_meanings(None)
    assert guess is not None and guess.name == "next"  # the runner-up, clearly nearest


def test_examples_cover_every_command_and_faq_entry(shipped: Understanding) -> None:
    commands, faq = load_shipped()
    meanings = {example.meaning for example in shipped.examples()}
    assert {meaning.intent for meaning in meanings} >= {
        spec.name for spec in commands.intents if spec.templates
    }
    assert {Meaning.of("question", {"id": entry.id}) for entry in faq} <= meanings


# The real model


def test_the_encoder_gives_unit_vectors_whose_closeness_follows_meaning(
    encoder: SentenceEncoder,
) -> None:
    vectors = encoder.encode([
        "pause the workout", "hold on a second", "what is the capital of france",
    ])
    assert vectors.shape == (3, encoder.width)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.1


def test_one_sentence_encodes_alike_alone_and_in_a_batch(encoder: SentenceEncoder) -> None:
    alone = encoder.encode(["skip this one"])[0]
    batch = encoder.encode(["skip this one", "a much longer sentence so the batch is padded"])
    assert np.allclose(alone, batch[0], atol=1e-3)


def test_nothing_to_encode_is_an_empty_matrix(encoder: SentenceEncoder) -> None:
    assert encoder.encode([]).shape == (0, encoder.width)


def test_the_index_finds_the_meaning_of_words_no_example_has(
    encoder: SentenceEncoder, tmp_path: Path
) -> None:
    examples = [Example("pause", PAUSE), Example("hold on", PAUSE), Example("stop", STOP),
                Example("end the workout", STOP), Example("start the warm up", WARM_UP)]
    index = MeaningIndex(encoder, examples, tmp_path)
    ranked = index.closest("could you hold on for a moment")
    assert ranked[0][0] == PAUSE
    assert [meaning for meaning, _ in ranked] == sorted(
        {PAUSE, STOP, WARM_UP}, key=lambda meaning: -dict(ranked)[meaning]
    )
    assert index.closest("   ") == []


def test_vectors_are_kept_and_only_new_sentences_encoded(
    encoder: SentenceEncoder, tmp_path: Path
) -> None:
    encoded: list[str] = []

    def counting(sentences: Sequence[str]) -> Vectors:
        encoded.extend(sentences)
        return encoder.encode(sentences)

    announced: list[int] = []
    cache = VectorCache(tmp_path, encoder.files.identity(), encoder.width)
    first = cache.vectors(["pause", "stop"], counting, announced.append)
    assert encoded == ["pause", "stop"] and cache.path.is_file()
    again = VectorCache(tmp_path, encoder.files.identity(), encoder.width)
    second = again.vectors(["stop", "pause", "next"], counting, announced.append)
    assert encoded == ["pause", "stop", "next"]
    again.vectors(["next", "stop"], counting, announced.append)
    assert announced == [2, 1]  # told before encoding, and only when there is some
    assert np.allclose(second[0], first[1]) and np.allclose(second[1], first[0])


def test_a_slow_first_start_is_told_and_a_quick_one_is_not(
    capsys: pytest.CaptureFixture[str],
) -> None:
    first_start_notice(ANNOUNCE_FROM)
    assert f"learning {ANNOUNCE_FROM} phrasings, once" in capsys.readouterr().err
    first_start_notice(ANNOUNCE_FROM - 1)
    assert capsys.readouterr().err == ""


def test_a_damaged_cache_file_is_encoded_afresh(
    encoder: SentenceEncoder, tmp_path: Path
) -> None:
    cache = VectorCache(tmp_path, encoder.files.identity(), encoder.width)
    cache.path.write_bytes(b"not a numpy file")
    vectors = cache.vectors(["pause"], encoder.encode)
    assert np.allclose(vectors, encoder.encode(["pause"]))


def test_an_unwritable_cache_folder_still_gives_vectors(
    encoder: SentenceEncoder, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    cache = VectorCache(blocker / "cache", encoder.files.identity(), encoder.width)
    assert cache.vectors(["pause"], encoder.encode).shape == (1, encoder.width)


def test_a_missing_model_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(MeaningModelError, match="scripts/setup"):
        find_model_files(network=tmp_path / "model.onnx")


def test_an_unreadable_model_file_says_what_to_do(tmp_path: Path) -> None:
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"not an onnx file")
    tokenizer = find_model_files().tokenizer
    with pytest.raises(MeaningModelError, match="scripts/setup"):
        SentenceEncoder(find_model_files(network=broken, tokenizer=tokenizer))


@pytest.mark.parametrize(("text", "meant"), [
    ("right i think i am finished for the day", "stop"),
])
def test_shipped_understanding_with_the_model_understands_everyday_words(
    text: str, meant: str
) -> None:
    commands, faq = load_shipped()
    understanding = Understanding(commands, faq)
    assert understanding.interpret(text).name is None  # the templates alone miss it
    assert attach_meanings(understanding) is None
    assert understanding.interpret(text).name == meant


@pytest.mark.parametrize(("text", "guessed"), [
    ("i would rather not do this one", "next"),
    ("that's enough end it", "stop"),
    ("banana telephone purple", None),
])
def test_shipped_understanding_with_the_model_guesses_near_misses(
    text: str, guessed: str | None
) -> None:
    commands, faq = load_shipped()
    understanding = Understanding(commands, faq)
    assert attach_meanings(understanding) is None
    assert understanding.interpret(text).name is None
    guess = understanding.guess(text)
    assert (guess.name if guess is not None else None) == guessed


@pytest.mark.parametrize("text", ["did you watch the match last night", "pass me the chalk"])
def test_shipped_understanding_with_the_model_ignores_small_talk(text: str) -> None:
    commands, faq = load_shipped()
    understanding = Understanding(commands, faq)
    assert attach_meanings(understanding) is None
    assert understanding.interpret(text).name is None


def test_doctor_reports_the_meaning_model() -> None:
    import dataclasses

    from coach.cli.doctor import check_meanings

    assert check_meanings(Settings()).ok
    off = dataclasses.replace(
        Settings(), understanding=UnderstandingSettings(meanings=False)
    )
    finding = check_meanings(off)
    assert finding.ok and finding.detail.startswith("off")


def test_without_the_model_the_coach_understands_its_phrasings_and_says_how_to_fix_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    import coach.meaning.files as files
    from coach.content.loader import default_routine_dir, load_content
    from coach.session.understand import build_understanding

    def not_installed(*_: object) -> files.MeaningModelFiles:
        raise MeaningModelError("The sentence-meaning model's network is not installed: "
                                + files.INSTALL_HINT + ".")

    monkeypatch.setattr(files, "find_model_files", not_installed)
    content = load_content([default_routine_dir()])[0]
    understanding = build_understanding(content, Settings(), tmp_path)
    assert understanding.interpret("pause").name == "pause"
    assert understanding.interpret("right i think i am finished for the day").name is None
    assert "scripts/setup" in caplog.text and "only its own phrasings" in caplog.text
