"""Sub-photo detector on constructed and generated pages (no real photos needed)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from benchmarks.subphoto_eval import benchmark, evaluate_detector, evaluate_single_photos, iou, match_count
from benchmarks.synthetic_pages import (
    PhotoSource,
    caltech_photo_paths,
    generate_pages,
    generated_photo,
    make_single_photo,
    make_web_screenshot,
)
from store.ingestion.subphotos import Region, detect_subphotos

CALTECH = Path(__file__).resolve().parents[3] / "shared" / "data" / "caltech101"


def _page(colour=(250, 250, 248), size=(1600, 1200)) -> Image.Image:
    return Image.new("RGB", size, colour)


def _grainy_page(colour=(250, 250, 248), size=(1600, 1200), sigma=3.0) -> Image.Image:
    noise = np.random.default_rng(0).normal(0, sigma, size=(size[1], size[0], 1))
    return Image.fromarray(np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8))


def _product_shot(seed: int, size=(520, 400)) -> Image.Image:
    """An object photographed on white: an oval of photo content on a plain white background."""
    w, h = size
    shot = Image.new("RGB", size, (255, 255, 255))
    thing = generated_photo(seed, (w * 3 // 5, h * 3 // 5))
    mask = Image.new("L", thing.size, 0)
    ImageDraw.Draw(mask).ellipse((0, 0, thing.width - 1, thing.height - 1), fill=255)
    shot.paste(thing, ((w - thing.width) // 2, (h - thing.height) // 2), mask)
    return shot


def test_region_is_a_frozen_dataclass():
    region = Region((1, 2, 3, 4), 0.0, 0.9)
    with pytest.raises(dataclasses.FrozenInstanceError):
        region.bbox = (0, 0, 1, 1)  # type: ignore[misc]


def test_three_photos_on_a_white_page_are_found_exactly():
    page = _page()
    truth = [(100, 100, 500, 380), (700, 120, 600, 400), (300, 650, 420, 460)]
    for i, (x, y, w, h) in enumerate(truth):
        page.paste(generated_photo(40 + i, (w, h)), (x, y))
    regions = detect_subphotos(page)
    assert len(regions) == 3
    assert [r.bbox[1] for r in regions] == sorted(r.bbox[1] for r in regions)  # top to bottom
    for region in regions:
        assert max(iou(region.bbox, t) for t in truth) > 0.95
        assert region.angle == 0.0
        assert 0.0 < region.score <= 1.0


def test_tilted_photo_yields_its_axis_aligned_box_and_angle():
    page = _page((25, 25, 25))
    photo = generated_photo(7, (500, 350))
    tilted = photo.rotate(2.5, resample=Image.Resampling.BICUBIC, expand=True)
    mask = Image.new("L", photo.size, 255).rotate(2.5, expand=True)
    page.paste(tilted, (150, 200), mask)
    page.paste(generated_photo(8, (450, 450)), (900, 300))
    regions = detect_subphotos(page)
    assert len(regions) == 2
    tilted_box = (150, 200, tilted.width, tilted.height)
    best = max(regions, key=lambda r: iou(r.bbox, tilted_box))
    assert iou(best.bbox, tilted_box) > 0.9
    assert best.angle == pytest.approx(2.5, abs=0.75)


def test_white_print_border_on_a_dark_page_is_trimmed():
    page = _page((30, 50, 40))
    truth = []
    for i, (x, y) in enumerate([(120, 150), (850, 200)]):
        picture = generated_photo(60 + i, (520, 400))
        framed = Image.new("RGB", (520 + 2 * 24, 400 + 2 * 24), (252, 252, 250))
        framed.paste(picture, (24, 24))
        page.paste(framed, (x, y))
        truth.append((x + 24, y + 24, 520, 400))
    regions = detect_subphotos(page)
    assert match_count(truth, [r.bbox for r in regions], threshold=0.9) == 2
    assert len(regions) == 2


def test_photos_separated_by_a_thin_gutter_are_kept_apart():
    page = _page((245, 245, 245), (2000, 1400))
    truth = [(200, 200, 790, 600), (1010, 200, 790, 600), (200, 820, 790, 480), (1010, 820, 790, 480)]
    for i, (x, y, w, h) in enumerate(truth):  # 20 px gutters = 1% of the long side
        page.paste(generated_photo(80 + i, (w, h)), (x, y))
    regions = detect_subphotos(page)
    assert match_count(truth, [r.bbox for r in regions]) == 4
    assert len(regions) == 4


def test_a_framed_picture_yields_only_the_picture():
    page = _page((250, 250, 250), (1000, 800))
    page.paste(Image.new("RGB", (500, 420), (90, 60, 40)), (100, 100))  # a frame with a page-coloured
    page.paste(Image.new("RGB", (460, 380), (250, 250, 250)), (120, 120))  # gap around the picture
    page.paste(generated_photo(12, (400, 320)), (150, 150))
    page.paste(generated_photo(13, (250, 300)), (680, 250))
    regions = detect_subphotos(page)
    assert match_count([(150, 150, 400, 320), (680, 250, 250, 300)], [r.bbox for r in regions]) == 2
    assert len(regions) == 2


@pytest.mark.parametrize("make_page", [_page, _grainy_page], ids=["plain", "grainy"])
def test_product_shot_on_a_white_page_is_found_to_its_edges(make_page):
    # The shot's white background differs from the page by a few grey levels only.
    truth = [(150, 200, 520, 400), (900, 300, 480, 520)]
    page = make_page()
    page.paste(_product_shot(20), truth[0][:2])
    page.paste(generated_photo(21, truth[1][2:]), truth[1][:2])
    regions = detect_subphotos(page)
    assert match_count(truth, [r.bbox for r in regions], threshold=0.9) == 2
    assert len(regions) == 2


def test_photo_inside_its_own_white_margin_is_found_with_the_margin():
    page = _page()
    shot = Image.new("RGB", (600, 440), (255, 255, 255))  # uneven margins: not a print border
    shot.paste(generated_photo(30, (420, 330)), (120, 30))
    truth = [(120, 150, 600, 440), (900, 250, 500, 500)]
    page.paste(shot, truth[0][:2])
    page.paste(generated_photo(31, truth[1][2:]), truth[1][:2])
    regions = detect_subphotos(page)
    assert match_count(truth, [r.bbox for r in regions], threshold=0.9) == 2
    assert len(regions) == 2


def test_screenshot_with_header_and_text_at_both_edges_is_read():
    page = _page((255, 255, 255), (1280, 800))
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, 1280, 80), fill=(0, 90, 160))
    for y in range(110, 780, 22):  # text columns running up to the left and right edges
        draw.rectangle((10, y, 240, y + 10), fill=(120, 120, 120))
        draw.rectangle((1040, y, 1270, y + 10), fill=(120, 120, 120))
    truth = (340, 160, 600, 450)
    page.paste(generated_photo(40, truth[2:]), truth[:2])
    regions = detect_subphotos(page)
    assert [iou(r.bbox, truth) > 0.9 for r in regions] == [True]


def test_web_screenshot_photo_is_found_and_chrome_ignored():
    page = make_web_screenshot(generated_photo(5), seed=3)
    regions = detect_subphotos(page.image)
    assert len(regions) == 1
    assert iou(regions[0].bbox, page.boxes[0]) >= 0.8


@pytest.mark.parametrize("seed", range(10))
def test_single_generated_photo_is_not_split(seed):
    assert detect_subphotos(make_single_photo(generated_photo(seed), seed).image) == []


@pytest.mark.parametrize("seed", range(4))
def test_single_product_shot_on_white_is_not_split(seed):
    assert detect_subphotos(make_single_photo(_product_shot(seed, (640, 480)), seed).image) == []


def test_lone_photo_on_a_plain_margin_is_not_reported():
    page = _page((255, 255, 255), (800, 600))
    page.paste(generated_photo(2, (500, 350)), (150, 120))
    assert detect_subphotos(page) == []


def test_flat_shapes_and_text_lines_are_not_photos():
    page = np.full((900, 1200, 3), 250, np.uint8)
    page[100:400, 100:500] = (200, 40, 40)  # flat coloured panel
    page[100:400, 700:1100] = (60, 60, 200)
    for y in range(500, 850, 20):  # a block of text lines
        page[y : y + 9, 100:1100] = 90
    assert detect_subphotos(Image.fromarray(page)) == []


@pytest.mark.parametrize(
    "image",
    [
        Image.new("RGB", (10, 10), "white"),
        Image.new("RGB", (640, 480), "white"),
        Image.new("L", (640, 480), 0),
        Image.new("RGB", (4000, 30), "white"),
    ],
)
def test_degenerate_images_give_no_regions(image):
    assert detect_subphotos(image) == []


def test_greyscale_and_rgba_pages_are_handled():
    page = _page()
    for i, x in enumerate((100, 850)):
        page.paste(generated_photo(90 + i, (600, 450)), (x, 300))
    for converted in (page.convert("L"), page.convert("RGBA")):
        assert len(detect_subphotos(converted)) == 2


def test_boxes_are_in_original_pixels_for_large_pages():
    page = _page((240, 236, 220), (4800, 3200))
    truth = [(400, 400, 1800, 1300), (2600, 1500, 1700, 1400)]
    for i, (x, y, w, h) in enumerate(truth):
        page.paste(generated_photo(95 + i, (w, h)), (x, y))
    regions = detect_subphotos(page)
    assert match_count(truth, [r.bbox for r in regions], threshold=0.95) == 2


def test_generated_pages_meet_the_targets():
    pages = list(generate_pages(30, seed=2026, source=PhotoSource()))
    scores = evaluate_detector(pages)
    assert scores.true_regions > 60 and scores.single_photos > 0
    assert scores.precision >= 0.95, scores.as_dict()
    assert scores.recall >= 0.95, scores.as_dict()
    assert scores.false_split_rate == 0.0, scores.as_dict()


def test_benchmark_reports_synthetic_figures_without_real_photos(tmp_path):
    result = benchmark(pages=6, seed=1, caltech_root=tmp_path)
    assert set(result) == {"synthetic"}
    figures = result["synthetic"]
    assert figures["pages"] == 6 and figures["real_photos"] == 0
    assert {"precision", "recall", "false_split_rate", "seconds_per_image"} <= set(figures)


@pytest.mark.skipif(not CALTECH.is_dir(), reason="Caltech-101 not present (../shared/data/caltech101)")
def test_real_photos_are_rarely_split_and_pages_of_them_are_found():
    paths = caltech_photo_paths(CALTECH)
    singles = evaluate_single_photos(paths[::60])  # ~150 real photos across all classes
    assert singles.single_photos > 100
    assert singles.false_split_rate <= 0.01, singles.as_dict()
    pages = list(generate_pages(30, seed=7, source=PhotoSource(paths), mix=(0.8, 0.2, 0.0)))
    scores = evaluate_detector(pages)
    assert scores.precision >= 0.95, scores.as_dict()
    assert scores.recall >= 0.93, scores.as_dict()
