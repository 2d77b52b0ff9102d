"""Seeded generator of SYNTHETIC plans for benchmarks — not real government documents.

Each generated file is printed in one of the layouts the parser reads (``LAYOUTS``, drawn per plan:
Bishan's 一、/（一）/1． with （牵头单位：…；责任单位：…）; an annual 工作要点 with role lines and relative
deadlines; inline role phrases （X牵头，…按职责分工负责）; a tab-separated task table; measures
without units), so the corpus benchmark mixes layouts. Its content is recombined and perturbed
from the Bishan plan: another
district name, a varied set of units, tasks whose sentences are drawn from several real tasks and
lightly reworded, shifted deadlines, and a few deliberate defects (a skipped task number, a
missing unit clause, a section label out of sequence) as real drafts have. Every file says in its
preamble that it is synthetic.

    python bench/synth.py --count 1000 --out /tmp/synth --seed 7
    python bench/synth.py --count 20 --out /tmp/synth --layout table    # one layout only
    python bench/synth.py --count 100 --out /tmp/synth --reports 2      # and two annual reports each
"""

from __future__ import annotations

import argparse
import functools
import itertools
import random
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "data" / "plans" / "chongqing-bishan-fazhi-zhengfu-2021-2025-draft.txt"

CITIES = [
    "重庆市",
    "四川省成都市",
    "湖南省长沙市",
    "湖北省宜昌市",
    "贵州省遵义市",
    "云南省曲靖市",
    "陕西省汉中市",
    "广西壮族自治区柳州市",
]
SYLLABLES = list(
    "江北南岸沙坪渝中大渡口九龙巴东西城山河清平安宁永川合綦铜梁潼荣昌开州云阳石柱秀武隆丰都垫忠奉节巫溪溪"
)
NUMERALS = "一二三四五六七八九十"
REWORDINGS = [
    ("加强", "强化"),
    ("健全", "完善"),
    ("推进", "推动"),
    ("深化", "深入推进"),
    ("建立", "构建"),
    ("全面", "全方位"),
    ("提升", "提高"),
]
EXTRA_UNITS = [
    "区大数据发展局",
    "区退役军人事务局",
    "区医保局",
    "区林业局",
    "区信访办",
    "区国资委",
    "区统计局",
    "区档案馆",
    "区机关事务局",
]


@dataclass
class _Task:
    chapter: int
    text: str
    lead: list[str]
    responsible: list[str]


def _numeral(n: int) -> str:
    if n <= 10:
        return NUMERALS[n - 1]
    if n < 20:
        return "十" + (NUMERALS[n - 11] if n > 10 else "")
    tens, ones = divmod(n, 10)
    return NUMERALS[tens - 1] + "十" + (NUMERALS[ones - 1] if ones else "")


@functools.lru_cache(maxsize=4)
def _read_source(path: Path = SOURCE) -> tuple[list[tuple[str, list[tuple[str, list[_Task]]]]], list[str]]:
    """Chapters → sections → tasks of the real plan, read with a few regular expressions.

    The generator needs only the raw pieces (titles, task sentences, unit names); parsing for real
    is the ingest package's job, and the benchmark runs that parser on the generated files.
    """
    chapters: list[tuple[str, list[tuple[str, list[_Task]]]]] = []
    units: set[str] = set()
    for raw in path.read_text(encoding="utf-8-sig").splitlines():
        line = raw.strip()
        if m := re.match(r"^[一二三四五六七八九十]+、(.+)$", line):
            chapters.append((m[1], []))
        elif (m := re.match(r"^（[一二三四五六七八九十]+）(.+)$", line)) and chapters:
            chapters[-1][1].append((m[1], []))
        elif (m := re.match(r"^\d+．(.+)$", line)) and chapters and chapters[-1][1]:
            body = m[1]
            clause = re.search(
                r"（((?:牵头单位|责任单位|参加单位)：[^（）]*(?:（[^（）]*）[^（）]*)*)）\s*$", body
            )
            lead: list[str] = []
            responsible: list[str] = []
            if clause:
                body = body[: clause.start()]
                for part in clause[1].split("；"):
                    role, _, names = part.partition("：")
                    found = [u for u in re.split(r"[、，,]", names) if u]
                    (lead if role == "牵头单位" else responsible).extend(found)
                    units.update(found)
            chapters[-1][1][-1][1].append(_Task(len(chapters), body.strip(), lead, responsible))
    return chapters, sorted(u for u in units if u.startswith("区") and not re.search("有关|各", u))


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[。；])", text) if s.strip()]


def _syllables() -> list[str]:
    """District-name characters with distinct pinyin, so plan ids (built from pinyin) never collide."""
    from pypinyin import lazy_pinyin

    seen: dict[str, str] = {}
    for ch in SYLLABLES:
        seen.setdefault(lazy_pinyin(ch)[0], ch)
    return list(seen.values())


@functools.lru_cache(maxsize=1)
def _three_character_names() -> list[str]:
    """District names of three characters for the indexes past the two-character ones (1,560), each
    with a pinyin spelling no other synthetic district has (plan ids are spelled from it)."""
    from pypinyin import lazy_pinyin

    chars = _syllables()
    n = len(chars)
    seen = {"".join(lazy_pinyin(f"{a}{b}")) for a in chars for b in chars if a != b}
    out = []
    for a, b, c in itertools.product(chars, repeat=3):
        if len({a, b, c}) == 3 and (spelled := "".join(lazy_pinyin(a + b + c))) not in seen:
            seen.add(spelled)
            out.append(f"{a}{b}{c}区")
    assert len(out) > n * n, "enough three-character names for tens of thousands of plans"
    return out


def _district(rng: random.Random, index: int) -> tuple[str, str]:
    """A district name unique per index (two characters indexed by ``index``, then three), in a random city."""
    chars = _syllables()
    n = len(chars)
    if index >= n * (n - 1):
        more = _three_character_names()
        if index - n * (n - 1) >= len(more):
            raise ValueError(f"at most {n * (n - 1) + len(more)} distinct synthetic districts")
        return rng.choice(CITIES), more[index - n * (n - 1)]
    first, second = divmod(index, n - 1)
    second = second + 1 if second >= first else second
    return rng.choice(CITIES), f"{chars[first % n]}{chars[second]}区"


LAYOUTS = ("clause", "role-line", "inline-roles", "table", "measure")
LAYOUT_WEIGHTS = (40, 15, 15, 18, 12)  # Bishan's layout stays the most common; every layout is in any 100 plans
RELATIVE = ["6月底前", "年内", "三季度", "上半年", "年底前", "9月底前"]


@dataclass
class _Content:
    city: str
    district: str
    start: int
    end: int
    chapters: list[tuple[str, list[tuple[str, list[tuple[str, list[str]]]]]]]  # title → sections → (text, leads)
    skip_number: bool
    drop_clause: bool
    bad_section: bool


def _content(index: int, seed: int, source: Path) -> _Content:
    """The plan's words, drawn in the same order as before layouts existed (Bishan-layout plans are unchanged)."""
    rng = random.Random(f"{seed}-{index}")
    chapters, real_units = _read_source(source)
    pool = [t for _, sections in chapters for _, tasks in sections for t in tasks]
    city, district = _district(rng, index)
    start = rng.choice([2021, 2021, 2022, 2023])
    end = start + 4
    unit_pool = real_units + rng.sample(EXTRA_UNITS, rng.randint(1, 4))
    flags = (rng.random() < 0.15, rng.random() < 0.2, rng.random() < 0.1)  # skipped number, no clause, bad section
    out: list[tuple[str, list[tuple[str, list[tuple[str, list[str]]]]]]] = []
    for ch_title, sections in chapters:
        secs: list[tuple[str, list[tuple[str, list[str]]]]] = []
        for sec_title, tasks in sections:
            items: list[tuple[str, list[str]]] = []
            for task in tasks:
                sentences = _sentences(task.text)
                same_chapter = [t for t in pool if t.chapter == task.chapter and t is not task]
                if same_chapter and rng.random() < 0.6:  # recombine: borrow a sentence
                    donor = _sentences(rng.choice(same_chapter).text)
                    sentences.insert(rng.randrange(len(sentences) + 1), rng.choice(donor))
                if len(sentences) > 2 and rng.random() < 0.4:  # drop one
                    sentences.pop(rng.randrange(len(sentences)))
                text = "".join(sentences)
                for a, b in rng.sample(REWORDINGS, 2):  # light rewording
                    text = text.replace(a, b, 1) if rng.random() < 0.5 else text
                text = re.sub(r"(20\d\d)年", lambda m: f"{min(end, int(m[1]) + start - 2021)}年", text)
                lead = rng.sample(unit_pool, rng.choice([1, 1, 1, 2, 2, 3]))
                if task.lead and rng.random() < 0.5:
                    lead[0] = task.lead[0]
                items.append((text, list(dict.fromkeys(lead))))
            secs.append((sec_title, items))
        out.append((ch_title, secs))
    return _Content(city, district, start, end, out, *flags)


def _synthetic_note(district: str) -> str:
    return (f"为全面贯彻落实《法治政府建设实施纲要（2021—2025年）》，结合{district}实际，制定本方案。"
            "（本文件为基准测试生成的合成数据，内容由璧山区方案重组改写而成，并非真实政府文件。）")


def _render_clause(c: _Content, rng: random.Random) -> list[str]:
    """Bishan's layout: 一、 / （一） / 1． with （牵头单位：…；责任单位：…）, and a few drafting defects."""
    out = ["附件", "", f"{c.city}{c.district}法治政府建设", "", f"实施方案（{c.start}—{c.end}年）", "", "（征求意见稿）",
           _synthetic_note(c.district).replace("本方案", "本实施方案"), ""]
    number = section_no = 0
    for ch_index, (ch_title, sections) in enumerate(c.chapters, start=1):
        out += [f"{_numeral(ch_index)}、{ch_title}", ""]
        if not sections:
            out += [f"到{c.end}年，{c.district}法治政府建设取得新进展。", ""]
        for sec_title, tasks in sections:
            section_no += 1
            label = _numeral(section_no - 1 if c.bad_section and section_no == 12 else section_no)
            out.append(f"（{label}）{sec_title}")
            for text, lead in tasks:
                number += 1
                if c.skip_number and number == 30:
                    number += 1
                clause = f"（牵头单位：{'、'.join(lead)}；责任单位：区政府有关部门，各镇人民政府、街道办事处）"
                if c.drop_clause and number == 17:
                    clause = ""
                out += [f"{number}．{text}{clause}", ""]
    out.append(f"全区各级各部门要全面准确贯彻本实施方案，确保{c.district}法治政府建设各项任务措施落到实处。")
    return out


def _tasks(c: _Content) -> list[tuple[int, str, str, list[str]]]:
    """(chapter, section title, text, leads) of every task, for the layouts that regroup them."""
    return [(i, st, text, lead) for i, (_, secs) in enumerate(c.chapters, start=1) for st, ts in secs
            for text, lead in ts]


def _render_role_lines(c: _Content, rng: random.Random) -> list[str]:
    """An annual 工作要点: 一、 chapters, （一） items, each followed by role lines; relative deadlines."""
    year = c.start
    out = [f"{c.city}{c.district}{year}年法治政府建设工作要点", "", _synthetic_note(c.district), ""]
    for ch_index, (ch_title, sections) in enumerate(c.chapters, start=1):
        out.append(f"{_numeral(ch_index)}、{ch_title}")
        items = [(text, lead) for _, ts in sections for text, lead in ts]
        if not items:
            out.append(f"{year}年，{c.district}法治政府建设取得新进展。")
        for n, (text, lead) in enumerate(items, start=1):
            when = rng.choice(RELATIVE)
            out.append(f"（{_numeral(n)}）{text.rstrip('。')}，{when}完成。")
            if rng.random() < 0.5:
                out += [f"牵头单位：{'、'.join(lead)}", "责任单位：区政府有关部门"]
            else:
                out.append(f"责任单位：{'、'.join(lead)}")
            if rng.random() < 0.1:
                out.append("完成时限：长期坚持")
    return out


def _render_inline(c: _Content, rng: random.Random) -> list[str]:
    """Inline role phrases after each measure: （X牵头，区政府有关部门按职责分工负责） / （X负责）."""
    out = [f"{c.city}{c.district}法治政府建设实施方案（{c.start}—{c.end}年）", "", _synthetic_note(c.district), ""]
    number = 0
    for ch_index, (ch_title, sections) in enumerate(c.chapters, start=1):
        out.append(f"{_numeral(ch_index)}、{ch_title}")
        for s_index, (sec_title, tasks) in enumerate(sections, start=1):
            out.append(f"（{_numeral(s_index)}）{sec_title}")
            for text, lead in tasks:
                number += 1
                roles = (f"{'、'.join(lead)}牵头，区政府有关部门按职责分工负责" if rng.random() < 0.7
                         else f"{'、'.join(lead)}负责")
                out.append(f"{number}．{text}（{roles}）")
    return out


def _render_table(c: _Content, rng: random.Random) -> list[str]:
    """A task-division table per chapter (tab-separated, 〃 for a lead repeated from the row above)."""
    year = c.start
    out = [f"{c.city}{c.district}{year}年法治政府建设重点任务清单", "", _synthetic_note(c.district), ""]
    chapter_index = 0
    for ch_title, sections in c.chapters:
        rows = [(text, lead) for _, ts in sections for text, lead in ts]
        if not rows:
            continue
        chapter_index += 1
        out += [f"{_numeral(chapter_index)}、{ch_title}", "序号\t重点任务\t牵头单位\t责任单位\t完成时限"]
        previous = ""
        for n, (text, lead) in enumerate(rows, start=1):
            names = "、".join(lead)
            cell = "〃" if names == previous else names
            previous = names
            out.append(f"{n}\t{text}\t{cell}\t区政府有关部门\t{rng.choice([*RELATIVE, '长期坚持'])}")
        out.append("")
    return out


def _render_measures(c: _Content, rng: random.Random) -> list[str]:
    """Measures without units (as a 纲要 or 实施意见 prints them): （一） paragraphs under 一、 chapters."""
    out = [f"{c.city}{c.district}关于加快建设法治政府的实施意见（{c.start}—{c.end}年）", "", _synthetic_note(c.district), ""]
    for ch_index, (ch_title, sections) in enumerate(c.chapters, start=1):
        out.append(f"{_numeral(ch_index)}、{ch_title}")
        items = [text for _, ts in sections for text, _ in ts]
        if not items:
            out.append(f"到{c.end}年，{c.district}法治政府建设取得新进展。")
        out += [f"（{_numeral(n)}）{text}" for n, text in enumerate(items, start=1)]
    return out


RENDERERS = {"clause": _render_clause, "role-line": _render_role_lines, "inline-roles": _render_inline,
             "table": _render_table, "measure": _render_measures}


def plan_layout(index: int, seed: int = 7) -> str:
    """The layout of synthetic plan ``index`` (drawn apart from its words, so Bishan-layout plans stay as they were)."""
    return random.Random(f"layout-{seed}-{index}").choices(LAYOUTS, weights=LAYOUT_WEIGHTS)[0]


def generate_plan(index: int, seed: int = 7, source: Path = SOURCE, layout: str | None = None) -> tuple[str, str]:
    """(file name, text) of synthetic plan number ``index``; the same (index, seed) gives the same text."""
    content = _content(index, seed, source)
    layout = layout or plan_layout(index, seed)
    lines = RENDERERS[layout](content, random.Random(f"render-{seed}-{index}"))
    end = content.start if layout in ("role-line", "table") else content.end
    name = f"synthetic-{index:04d}-fazhi-zhengfu-{content.start}-{end}.txt"
    return name, "\n".join(lines) + "\n"


#: Share of a plan's tasks each synthetic annual report reports on (Bishan's 2022 report has 35
#: statements for 74 tasks); the others get nothing that year.
REPORTED_SHARE = 0.4
FIGURES = ["件", "项", "场次", "人次", "份", "次"]
OPENINGS = ["全年", "累计", "年内"]


def report_years(index: int, count: int, seed: int = 7, layout: str | None = None) -> list[int]:
    """The years of plan ``index``'s first ``count`` annual reports: its period's years, none after 2025."""
    content = _content(index, seed, SOURCE)
    end = content.start if (layout or plan_layout(index, seed)) in ("role-line", "table") else content.end
    return [y for y in range(content.start, min(end, 2025) + 1)][:count]


def _report_statement(text: str, lead: list[str], rng: random.Random) -> str:
    """What a report says of a task: its first sentence reworded, who did it, and a figure."""
    first = _sentences(text)[0].rstrip("。；")
    for a, b in rng.sample(REWORDINGS, 3):
        first = first.replace(b, a, 1) if rng.random() < 0.5 else first
    who = f"{lead[0]}牵头" if rng.random() < 0.7 else ""
    figure = f"{rng.choice(OPENINGS)}办理相关事项{rng.randint(3, 900)}{rng.choice(FIGURES)}"
    return f"{who}{first}，{figure}"


def generate_report(index: int, year: int, seed: int = 7, source: Path = SOURCE) -> tuple[str, str]:
    """(file name, text) of plan ``index``'s SYNTHETIC annual report for ``year`` (法治政府建设情况的报告).

    In the layout ``ingest.report`` reads: a title, an opening, then 一、 what was done (one （k）
    section per chapter of the plan, its items 一是…二是…, each echoing one task: ``REPORTED_SHARE``
    of the tasks, drawn per year, plus one general statement per section that echoes none), 二、 what
    fell short, 三、 next year's work.
    """
    c = _content(index, seed, source)
    rng = random.Random(f"report-{seed}-{index}-{year}")
    out = [f"{c.city}{c.district}人民政府关于{year}年度法治政府建设情况的报告", "",
           f"{year}年，区政府坚持以习近平法治思想为指导，对照{c.district}法治政府建设实施方案逐项推进。"
           "（本文件为基准测试生成的合成数据，并非真实政府文件。）现将有关情况报告如下：", "",
           f"一、{year}年推进法治政府建设的主要举措和成效", ""]
    section = 0
    for ch_title, sections in c.chapters:
        tasks = [(text, lead) for _, ts in sections for text, lead in ts]
        picked = [t for t in tasks if rng.random() < REPORTED_SHARE]
        if not picked:
            continue
        section += 1
        items = [_report_statement(text, lead, rng) for text, lead in picked]
        items.insert(rng.randrange(len(items) + 1),
                     f"全区各单位开展{ch_title[:6]}专题学习研讨{rng.randint(10, 300)}场次")
        body = "".join(f"{_numeral(k)}是{item}。" for k, item in enumerate(items, start=1))
        out += [f"（{_numeral(section)}）{ch_title}。{body}", ""]
    out += ["二、存在的不足", "",
            f"对照{c.district}法治政府建设实施方案，部分任务推进不够平衡，基层执法力量仍然薄弱。", "",
            f"三、{year + 1}年工作安排", "",
            f"{year + 1}年，区政府将继续对照实施方案，逐项抓好未完成任务的落实。", ""]
    return report_name(index, year), "\n".join(out)


def report_name(index: int, year: int) -> str:
    """The file name of plan ``index``'s synthetic report for ``year``."""
    return f"synthetic-{index:04d}-report-{year}.txt"


def write_reports(folder: Path, index: int, count: int, seed: int = 7, layout: str | None = None) -> list[str]:
    """Write plan ``index``'s first ``count`` synthetic annual reports into ``folder``; their names."""
    names = []
    for year in report_years(index, count, seed, layout):
        name, text = generate_report(index, year, seed)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
        names.append(name)
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--layout", choices=LAYOUTS, help="every plan in this layout (default: a mix)")
    parser.add_argument("--reports", type=int, default=0, metavar="N",
                        help="also each plan's first N annual reports (years of its period up to 2025), "
                             "in <out>/reports")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    reports = 0
    for i in range(args.count):
        name, text = generate_plan(i, args.seed, layout=args.layout)
        (args.out / name).write_text(text, encoding="utf-8")
        reports += len(write_reports(args.out / "reports", i, args.reports, args.seed, args.layout))
    print(f"wrote {args.count} synthetic plans to {args.out}"
          + (f" and {reports} reports to {args.out / 'reports'}" if reports else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
