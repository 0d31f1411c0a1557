"""The translations of the top-level README cannot silently drift from the English one, nor from their own variant.

A translation changes the prose and nothing else, so these must be the same in every language: in
the same order, the sections (heading levels), every code block, and the tables (their rows and
columns); in any order, since a translated sentence may reorder them, every inline command and every
link target (but the links between the languages themselves).
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGLISH = ROOT / "README.md"
TRANSLATIONS = [ROOT / "README.zh-TW.md", ROOT / "README.zh-CN.md"]
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def skeleton(path: Path) -> dict[str, list]:
    text = path.read_text()
    prose = FENCE.sub("", text)
    tables = re.findall(r"(?:^\|.*\|\n)+", prose, re.M)
    return {
        "heading levels": [len(marks) for marks in re.findall(r"^(#{1,6}) ", prose, re.M)],
        "code blocks": FENCE.findall(text),
        "inline code": sorted(re.findall(r"`([^`\n]+)`", prose)),
        "link targets": sorted(
            target
            for target in re.findall(r"\]\(([^)\s]+)\)", prose)
            if not re.fullmatch(r"README(\.\w+-\w+)?\.md", target)
        ),
        "tables (rows, columns)": [(len(t.splitlines()), t.splitlines()[0].count("|")) for t in tables],
    }


def test_the_english_readme_links_each_translation() -> None:
    english = ENGLISH.read_text()
    for translation in TRANSLATIONS:
        assert f"({translation.name})" in english


@pytest.mark.parametrize("translation", TRANSLATIONS, ids=lambda path: path.name)
def test_a_translation_has_the_same_sections_commands_links_and_tables(translation: Path) -> None:
    english, translated = skeleton(ENGLISH), skeleton(translation)
    for part, expected in english.items():
        assert translated[part] == expected, f"{translation.name}: its {part} differ from README.md's"
    assert "(README.md)" in translation.read_text()  # and it links back


# Words a reader of each variant would not write: Taiwanese usage in Simplified Chinese (a character
# conversion of zh-TW reads like this), and Mainland usage in Traditional Chinese.
NOT_IN_VARIANT = {
    "README.zh-CN.md": [
        "参考数据",
        "规格",
        "标头",
        "转送",
        "本机",
        "内附",
        "目前",
        "实务",
        "伺服器",
        "用户端",
        "程式",
        "预设",
    ],
    "README.zh-TW.md": [
        "默認",
        "信息",
        "軟件",
        "網絡",
        "文檔",
        "數據",
        "代碼",
        "項目",
        "調用",
        "接口",
        "登錄",
        "緩存",
        "服務器",
        "進程",
        "令牌",
    ],
}


@pytest.mark.parametrize("translation", TRANSLATIONS, ids=lambda path: path.name)
def test_a_translation_reads_as_its_own_variant_and_says_the_lessons_are_in_english(translation: Path) -> None:
    text = translation.read_text()
    assert [word for word in NOT_IN_VARIANT[translation.name] if word in text] == []
    head = text.split("\n## ", 1)[0]
    assert "README" in head and ("英文" in head), "the top says the lesson READMEs are in English only"
