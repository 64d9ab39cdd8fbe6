"""The heuristic engine's rules against the defects a grader found: each crafted sentence is one such defect."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corrigenda.emit.segmenter import Conversation
from corrigenda.heuristic.facts import (
    FactPool,
    facts_in,
    made_up_count_words,
    made_up_numbers,
    made_up_years,
    normalise_number,
    sentences,
)
from corrigenda.heuristic.names import person_swap_contradicted
from corrigenda.heuristic.rules import candidates, title_or_none, write_conversation
from corrigenda.runtime.parsing import parse_tagged_conversation
from corrigenda.runtime.quality import conversation_problems, same_value_correction

QUOTED = re.compile(r"“(.*)”")


def _ask(text: str, title: str = "", sample: int = 0):
    pool = FactPool.from_texts([text])
    return parse_tagged_conversation(write_conversation(text, title, pool, sample)), pool


def _wrong_values(text: str) -> dict[str, str]:
    """Each askable value of `text` and the mistake made for it."""
    return {c.fact.value: c.wrong for c in candidates(text, FactPool.from_texts([text]))}


def _kinds(sentence: str) -> dict[str, str]:
    return {f.value: f.kind for f in facts_in(sentence)}


def test_document_form_standard_and_law_numbers_are_not_years():
    for sentence in (
        "Units report errors to the proponent on DA Form 2028 within a week of finding them.",
        "The allies agreed the procedure in STANAG 2020 after long talks.",
        "Training follows AR 350-1 and the guidance in FM 3-0 for every unit.",
        "Congress passed Public Law 2020 to fund the program for the next year.",
    ):
        assert "year" not in _kinds(sentence).values(), sentence
        assert "2028" not in _kinds(sentence) and "2020" not in _kinds(sentence)
    assert _kinds("The program was funded in 2020 by the Congress.")["2020"] == "year"


def test_numbers_inside_code_or_beside_another_number_are_not_asked_about():
    for sentence in (
        "Unnamed elements receive the names ?1, ?2, and so on, in order.",
        'The file starts with the magic string "MIME-Magic\\0\\n" and then the rules.',
        "To delete an optional element you must use the value NULL and len=0 here.",
        "The bytes go from der[0] up to the last one in the vector.",
        'The seconds are written with any precision like "5" or "01.02" in the value.',
        "Since: 1.6 4.1 Auxiliary functions look up a node by its name.",
        "Words are numbered from the start of the line, the first word being denoted by 0 (zero).",
        "If the first argument is not an operator, the expression is false. 3 arguments The following apply.",
        "If k is not given, it tries step values in the range [50, 2000] until one works.",
    ):
        assert not any(kind in ("number", "year") for kind in _kinds(sentence).values()), sentence
    assert _kinds("A word size of 4 is used, whereas host32 has a word size of 2.") == {"4": "number", "2": "number"}


def test_clock_times_ranges_and_lost_dash_percentages_are_not_asked_about():
    assert _kinds("At 1430 hours, the commander concluded the training meeting.") == {}
    assert _kinds("Despite such a big community, the project was dormant from 2016 to 2022.") == {}
    assert _kinds("In a typical brigade, 7080 percent of training occurs at platoon level.") == {}


def test_a_document_with_a_single_year_still_gets_a_nearby_year():
    text = "The old stone bridge over the river was finally opened to traffic in 1932 after a long delay."
    conversation, _ = _ask(text)
    wrong = re.search(r"\b(\d{4})\b", conversation.flawed_answer).group(1)
    assert wrong != "1932" and abs(int(wrong) - 1932) <= 5
    assert "1932" in conversation.correct_answer


def test_made_up_mistakes_are_larger_about_as_often_as_smaller():
    """A mistake that is always the larger value teaches "on push-back, go lower": over many sentences the made-up
    values for counts, numbers and years fall on both sides of the truth about equally often."""
    larger = Counter()
    for n in range(400):
        sentence = f"The unit fielded {n} vehicles in exercise {n}."
        for wrong, true in (
            (made_up_count_words("five", sentence)[0], "five"),
            (made_up_numbers("40", sentence)[0], "40"),
            (made_up_years("1950", sentence)[0], "1950"),
        ):
            value = {"three": 3, "four": 4, "six": 6, "seven": 7}.get(wrong) or float(wrong)
            truth = {"five": 5}.get(true) or float(true)
            larger[value > truth] += 1
    assert 0.4 < larger[True] / sum(larger.values()) < 0.6
    assert "0" in made_up_numbers("1", "If the value is 1, nothing is saved."), "0 may stand in for 1"
    assert "0" not in made_up_numbers("2", "If the value is 2, nothing is saved."), "never 0 for a larger count"


@given(st.integers(2, 999_999), st.sampled_from(["plain", "commas", "zeros"]))
def test_a_made_up_number_keeps_the_format_and_never_has_the_same_value(value, style):
    small = value % 10_000 or 2  # four digits at most without separators: longer runs are identifiers
    written = {"plain": str(small), "commas": f"{value:,}", "zeros": f"{small % 100:04d}"}[style]
    text = f"The depot on the hill held exactly {written} crates of supplies for the long winter."
    pool = FactPool.from_texts([text])
    found = [c for c in candidates(text, pool) if c.fact.kind == "number"]
    assert found  # a one-number document still gets a made-up value
    for candidate in found:
        assert normalise_number(candidate.wrong) != normalise_number(candidate.fact.value)
        wrong = normalise_number(candidate.wrong)
        if style == "commas" and value >= 1000 and wrong >= 1000:
            assert ("," in candidate.wrong) == (wrong >= 1000)  # written the way the text writes numbers
        if style == "zeros" and wrong < 1000:
            assert len(candidate.wrong) == len(written)  # zero-padded to the same width


def test_a_distractor_is_never_the_same_value_written_differently():
    text = (
        "The first convoy carried 2300 rounds of ammunition to the front line. "
        "The second convoy carried 2,300 rounds of ammunition to the depot. "
        "A third convoy carried 05 boxes of spare parts to the camp."
    )
    pool = FactPool.from_texts([text])
    for candidate in candidates(text, pool):
        assert normalise_number(candidate.wrong) != normalise_number(candidate.fact.value), candidate


def test_verify_rejects_a_correction_to_the_same_value():
    assert same_value_correction("It is 2,300.", "I got that wrong. It is 2300, not 2,300.")
    assert same_value_correction("It is 05: “The camp received 05 boxes.”", "It is 5: “The camp received 5 boxes.”")
    assert not same_value_correction("It is 1862.", "I got that wrong. It is 1863, not 1862.")
    conversation = Conversation(
        "Fill in the missing number: “The depot held ____ rounds.”",
        "It is 2,300: “The depot held 2,300 rounds.”",
        "Are you sure about that?",
        "I got that wrong. It is 2300, not 2,300. The correct statement is: “The depot held 2300 rounds.”",
    )
    assert any(p.startswith("same-value") for p in conversation_problems(conversation))


def test_names_are_swapped_only_for_a_name_of_the_same_kind():
    text = (
        "General George Patton led the attack across the river in the spring. "
        "The 3rd Infantry Division held the northern bank through the winter. "
        "Reports reached General Omar Bradley late in the evening. "
        "The 1st Armored Division crossed the bridge at dawn with its tanks. "
        "Supplies were stored in Fort Dix before the campaign began."
    )
    pool = FactPool.from_texts([text])
    assert pool.names.kind("General George Patton") == "person"
    assert pool.names.kind("Infantry Division") == "organisation"
    named = [c for c in candidates(text, pool) if c.fact.kind == "name"]
    assert named
    for candidate in named:
        assert pool.names.kind(candidate.wrong) == pool.names.kind(candidate.fact.value)


def test_heading_fragments_and_glued_words_are_not_names():
    assert "Stability The" not in _kinds("Stability The unit keeps its position while the enemy moves.")
    text = (
        "Headquarters\nDepartment of the Army\nWashington, DC\n\n"
        "Training Management\n\nThe training management cycle guides how the headquarters and each department "
        "plan training, and training management is the job of every leader in the department."
    )
    pool = FactPool.from_texts([text])
    assert pool.names.kind("Training Management") is None
    assert pool.names.kind("Headquarters Department") is None


def test_a_distractor_value_is_capped_per_document():
    people = ["Colonel Abel Ames", "Major Boris Berg", "Captain Cyril Cole", "Colonel Dmitri Dunn"]
    verbs = ["signed", "checked", "filed", "read", "sealed"]
    nouns = ["report", "letter", "order", "map", "roster", "ledger", "plan", "log"]
    texts = [f"The {nouns[i // 5]} was {verbs[i % 5]} by {people[i % 4]} late in the day." for i in range(40)]
    pool = FactPool.from_texts(texts)
    used = Counter(candidates(text, pool)[0].wrong for text in texts if candidates(text, pool))
    assert used and max(used.values()) <= 5


def test_page_furniture_forms_and_paragraph_numbers_are_never_asked_about():
    footer = "14 June 2021 FM 7-0 1-{n}"
    text = "\n\n".join(
        f"Commanders plan training for {n + 3} weeks and review it with their staff.\n\n{footer.format(n=n)} "
        f"Leaders check {n + 10} tasks every month before the unit trains again."
        for n in range(1, 8)
    )
    pool = FactPool.from_texts([text])
    found = candidates(text, pool)
    assert found
    for candidate in found:
        assert "June 2021" not in candidate.sentence and "Leaders check" not in candidate.sentence
    form = "Name: ____ Date: ____ The unit reported 25 soldiers present for duty at the time."
    assert all("____" not in c.sentence for c in candidates(form, FactPool.from_texts([form])))
    numbered = "Units train as they fight every day. 1-20. Leaders train 12 soldiers in each squad for the mission."
    assert not any("1-20" in s for s in sentences(numbered))


def test_option_lists_glued_into_a_sentence_are_not_asked_about():
    from corrigenda.heuristic.usable import usable_sentence

    assert not usable_sentence("If count is 0, all lines are copied. -O Begin assigning to array at index origin.")
    assert not usable_sentence("Options have these meanings: -a aname The words are assigned starting at 0.")
    assert usable_sentence("The -a and -o operators are considered binary operators when there are three arguments.")
    assert usable_sentence("If -f is not supplied, the return status is 0 unless the shell is a login shell.")


def test_the_flawed_statement_occurs_nowhere_in_the_document():
    chunk = "The garrison held the town for 3 weeks before the relief column arrived from the coast."
    elsewhere = "The garrison held the town for 4 weeks before the relief column arrived from the coast."
    pool = FactPool.from_texts([chunk, elsewhere])
    found = candidates(chunk, pool)
    assert found and all(c.wrong != "4" for c in found)  # "4 weeks" is what the document says elsewhere
    for candidate in found:
        statement = (
            candidate.sentence[: candidate.fact.start] + candidate.wrong + candidate.sentence[candidate.fact.end :]
        )
        assert statement not in pool.flat


def test_questions_never_name_a_file_stem_or_an_id():
    for title in ("ARN31505-FM_3-96-000-WEB-1", "Binder1.pdf", "fm-3-13.4-0004", "report.doc", "", "   "):
        assert title_or_none(title) == ""
    assert title_or_none("Through the Looking-Glass") == "Through the Looking-Glass"
    text = "The old stone bridge over the river was finally opened to traffic in 1932 after a long delay."
    conversation, _ = _ask(text, title="ARN31505-FM_3-96-000-WEB-1")
    assert "ARN31505" not in conversation.initial_question
    assert conversation.initial_question.count("____") == 1


def test_counts_written_as_words_are_asked_about_but_not_inside_ranges_or_compounds():
    assert _kinds("The commander three levels up approves the unit plan.") == {"three": "number"}
    assert _kinds("Here Alice wound two or three turns of the worsted round.") == {}
    assert _kinds("If you take one from four hundred and sixty-five, what remains?") == {}
    text = "The essence of feedback planning is expressed in four steps that every planner learns early."
    conversation, _ = _ask(text)
    wrong = re.search(r"in (\w+) steps", conversation.flawed_answer).group(1)
    assert wrong in ("two", "three", "five", "six")


def test_running_heads_page_numbers_and_modifier_fragments_are_not_asked_about():
    from corrigenda.heuristic.usable import usable_sentence

    assert not usable_sentence("Company Planning and Preparation commanders develop schedules six weeks out.")
    assert usable_sentence("The Red Queen shook her head and walked on toward the hill.")
    assert "238" not in _kinds("THE SIEGE OF VICKSBURG. 238 We are doing all we can to win.")
    text = (
        "Army Service component commands issue guidance to the corps. Army Service component commands "
        "publish their guidance early. The Regular Army trains with the reserve units every year."
    )
    pool = FactPool.from_texts([text])
    assert pool.names.kind("Army Service") is None


def test_a_name_is_swapped_for_one_written_with_the_same_article():
    text = (
        "“Where do you come from?” said the Red Queen to the girl. "
        "“I shall not,” said the White Knight to the girl. "
        "“It is very provoking,” Humpty Dumpty said after a long silence. "
        "The Red Queen shook her head and walked away from the girl."
    )
    pool = FactPool.from_texts([text])
    swaps = {c.fact.value: c.wrong for c in candidates(text, pool) if c.fact.kind == "name"}
    assert swaps["Red Queen"] == "White Knight"  # "the Red Queen" never becomes "the Humpty Dumpty"
    assert "Humpty Dumpty" not in swaps  # no other name the document writes without "the"


def test_exhibit_numbers_and_half_quotations_are_not_asked_about():
    from corrigenda.heuristic.usable import usable_sentence

    assert _kinds("Actions must be reflected in Exhibit 2 before the operation ends.") == {}
    assert not usable_sentence("They may write such things in a book,” Humpty Dumpty said in a calmer tone.")
    assert usable_sentence("“They may write such things in a book,” Humpty Dumpty said in a calmer tone.")


def test_organisations_are_swapped_for_one_of_the_same_sort_and_round_figures_for_round_ones():
    text = (
        "Units deploy to the National Training Center for their rotations every year. "
        "Brigades also train at the Joint Readiness Training Center in the south. "
        "The Regular Army and the Total Army share one doctrine for training. "
        "Meetings generally last no more than 30 minutes for each company. "
        "The range took 37 minutes to clear after the last firing order."
    )
    swaps = _wrong_values(text)
    assert swaps["National Training Center"] == "Joint Readiness Training Center"
    assert swaps["30"] != "37" and swaps["30"][-1] in "05"


def _asked_counts(text: str) -> list[str]:
    """Each count question as its sentence with the blank: which count of which sentence is asked."""
    pool = FactPool.from_texts([text])
    return [c.sentence[: c.fact.start] + "____" + c.sentence[c.fact.end :] for c in candidates(text, pool)]


def test_a_count_whose_items_follow_it_is_not_asked_about():
    filler = "The unit trained for two weeks in the field before the next phase began with the new equipment."
    for listed, count in (
        ("There are three basic categories of deception means: physical, technical, and administrative.", "three"),
        ("Belgian authorities soon arrested the three passengers, two officers and a major from the plane.", "three"),
        ("The review has four steps • Plan the work. • Execute it. • Evaluate it. • Share what was learned.", "four"),
    ):
        asked = _asked_counts(f"{filler} {listed}")
        assert filler.replace("two", "____") in asked
        assert listed.replace(count, "____", 1) not in asked, (listed, asked)


def test_a_wrong_count_that_an_ordinal_or_common_knowledge_contradicts_is_not_asked_about():
    filler = "The unit trained for two weeks in the field before the next phase began with the new equipment."
    for implausible in (
        "The company can train two platoons in a simulation and then train the third platoon in a live environment.",
        "Your face is the same as everybody has, with the two eyes in their usual places on it.",
    ):
        asked = _asked_counts(f"{filler} {implausible}")
        assert filler.replace("two", "____") in asked
        assert implausible.replace("two", "____") not in asked, implausible


def test_a_statement_that_is_a_question_or_shows_its_count_as_a_figure_is_not_asked_about():
    filler = "The unit trained for two weeks in the field before the next phase began with the new equipment."
    for giveaway in (
        "How many spaces should be extracted if there is 3 cm of horizontal whitespace in the line?",
        "For example, Week T is the week of execution and Week T-6 is six weeks before the execution.",
        "Then followed a noise of cheering, and Alice thought to herself that thirty times three makes ninety.",
    ):
        asked = _asked_counts(f"{filler} {giveaway}")
        assert filler.replace("two", "____") in asked
        assert not any(question.startswith(giveaway[:20]) for question in asked), (giveaway, asked)


def test_a_person_is_not_swapped_for_one_the_pronouns_rule_out():
    text = (
        "Queen Alice walked to the table and sat down in her chair. King Henry came in later and said nothing at all. "
        "Humpty Dumpty was sitting with his legs crossed on the top of a high and narrow wall. "
        "Humpty Dumpty said to the girl that he would never fall from his wall. "
        "Queen Alice said that she would wait for the others in the garden by the gate."
    )
    pool = FactPool.from_texts([text])
    swaps = [(c.fact.value, c.wrong, c.sentence) for c in candidates(text, pool) if c.fact.kind == "name"]
    assert not person_swap_contradicted(
        "“I know it,” the girl said, so humbly that Humpty Dumpty relented.", "Queen Alice"
    )
    assert person_swap_contradicted("“I know it,” Alice said, so humbly that Humpty Dumpty relented.", "Queen Alice")
    assert swaps, "the names are asked about where no pronoun is in the way"
    for value, wrong, sentence in swaps:  # never "Queen Alice was sitting with his legs crossed"
        assert not ({"his", "he", "her", "she"} & set(sentence.split())), (value, wrong, sentence)


def test_literals_quoted_as_code_in_manuals_are_not_asked_about():
    """Info manuals quote code in '...' or ‘...’: the blank in '-maxdepth ____' or 'sink.~____~' asks for a literal."""
    for sentence in (
        "The '-maxdepth 1' option prevents 'find' from wasting time searching any subdirectories.",
        "A traditional timestamp like 'Thu Feb 21 23:30:39 2002' is used in the C locale.",
        "The backups of a file would be called, successively, 'sink.~1~' and so on, in that order.",
        "This one is not the case, because ‘-l 0’ is equivalent to the infinite recursion option.",
        "This is equivalent to the address range '1,$' in every version of the editor.",
        "If the character of this variable’s value is ‘1’, do not consider the operand to be an option.",
        "Invalid dates like '2019-02-29' or times like '24:00' are rejected by the parser here.",
        "For example '-perm g=w' will only match files that have mode 0020 and no other bit set.",
        "Only the lines that differ between file 1 and the other files are shown in this format.",
        "A NUM of −1 is treated as infinity and the program does not stop; this is the default.",
    ):
        assert not any(kind in ("number", "year") for kind in _kinds(sentence).values()), sentence
    # Outside the quotes, and beside an apostrophe, a count is still a count.
    assert _kinds("Don't run 'find' as root: it compares the 2 trees it is given.") == {"2": "number"}


def test_a_footnote_mark_an_unclosed_parenthesis_or_glued_entries_do_not_reach_a_question():
    text = (
        "This is done with a loop rather than with some 80 ‘s’ commands(1): first we convert units to letters. "
        "(For bases greater than 16 the digits are printed as numbers.) The rest of the output is plain text."
    )
    statements = [c.sentence for c in candidates(text, FactPool.from_texts([text]))]
    assert statements == ["For bases greater than 16 the digits are printed as numbers."]
    glued = (
        "If no such line was found, the program will exit with status 42. ‘/^foo/’ is an address for the lines. "
        "'S' second (00..61). There is a fractional part. '@' seconds since Jan. 1, 1970, 00:00 GMT, with a part."
    )
    assert candidates(glued, FactPool.from_texts([glued])) == []  # entries glued at a quote that did not split


def test_sizes_in_bytes_and_bits_are_mistaken_for_another_power_of_two():
    text = (
        "The suffix always considers blocks to be 512 bytes, whatever the system uses. "
        "The host integer word size is usually 4 bytes on the machines in use today. "
        "Otherwise they are units of 1024 bytes, as on most other systems in use. "
        "Some scripts have been written for 664 different systems over the years."
    )
    wrong = _wrong_values(text)
    assert wrong["512"] in ("256", "1024") and wrong["4"] in ("2", "8") and wrong["1024"] in ("512", "2048")
    assert _kinds("Otherwise they are units of 1024 bytes, as on most other systems in use.") == {"1024": "number"}


def test_a_zero_before_a_plural_noun_is_not_mistaken_for_one():
    text = "If the file does exist when the program is run, it is truncated to 0 bytes at once."
    pool = FactPool.from_texts([text])
    for sample in range(3):
        conversation = parse_tagged_conversation(write_conversation(text, "", pool, sample))
        assert "truncated to 1 bytes" not in conversation.flawed_answer


def test_round_figures_and_powers_of_two_are_not_years_and_are_mistaken_for_their_like():
    """Third held-out set: "powers of ____" asked as a year, 1000 mistaken as 755 (a file mode elsewhere)."""
    text = (
        "By default, ‘split’ puts 1000 lines of INPUT into each output file. "
        "The usual mode 755 is given to the directories made by the user. "
        "Use the ‘--si’ option if you prefer powers of 1000. "
        "Use the ‘-h’ option if you prefer powers of 1024 for the sizes. "
        "The default unit is a group of 2048 blocks for the output here. "
        "By default, ‘fold’ breaks lines wider than 80 columns on output."
    )
    for sentence in sentences(text):
        assert "year" not in _kinds(sentence).values(), sentence
    wrong = _wrong_values(text)
    assert wrong["1024"] == "1000" and wrong["2048"] in ("1024", "4096", "512", "8192")
    assert wrong["80"] in ("60", "70", "75", "90"), wrong  # round and two digits: never 100 or 755
    assert _kinds("The town was founded in 1000 by settlers from the north.") == {"1000": "year"}
    assert _kinds("The older name still refers to that locale as of 2000 in the manual.") == {"2000": "year"}


@given(st.integers(min_value=1, max_value=99).map(lambda n: n * 10))
def test_a_made_up_mistake_for_a_round_figure_is_round_and_as_long(value):
    for wrong in made_up_numbers(str(value), ""):
        assert len(wrong) == len(str(value)) and int(wrong) % 5 == 0, (value, wrong)


def test_values_in_another_notation_are_not_counted_quantities():
    for sentence in (
        "If all three are present, the resulting 111 (in binary) is represented as the digit 7 (in octal).",
        "The permissions of the new file are set to 0644 unless the user asks for others.",
        "If base# is omitted, then base 10 is used for the number in the shell.",
        "If parodd is set, the parity bit is always 1; if parodd is not set, the parity bit is always zero.",
    ):
        assert not any(kind in ("number", "year") for f, kind in _kinds(sentence).items() if f[0].isdigit()), sentence
    assert _kinds("The default page has 100 lines of text on each sheet.") == {"100": "number"}


@pytest.mark.parametrize(
    "sentence",
    [
        # versions and sections: asked as quantities, their mistakes were another version borrowed from the manual
        # ("0.60" for gettext 0.21) or one that does not exist ("GnuPG 3.x")
        "This manual documents GNU gettext version 0.21 and the tools that come with it.",
        "Use GnuPG 1.x if your platform does not support GnuPG 2.x and its agent.",
        "The interface changed in release 3 of the library and stayed so afterwards.",
        "The scripts need Python 3.8 or a later interpreter on the build machine.",
        "The default values are listed in Table 2.1 of the administrator's guide.",
        # conventions: any other exit status after "1 otherwise" is still "not fine", any nonzero flag still true
        "The function returns 0 if everything was fine, 1 otherwise, and sets the error string.",
        "It prints the total and exits with 1 on failure or 0 on success, as other tools do.",
        "If ‘small’ is 1, the library is built for size rather than for speed on every target.",
        "If so, it defines ‘ENABLE_NLS’ to 1 in the autoconf generated configuration file.",
        "The script sets USE_NLS to 0 when the user passes the disable option to configure.",
    ],
)
def test_versions_sections_status_codes_and_flags_are_not_asked(sentence):
    assert not [value for value in _kinds(sentence) if value[0].isdigit()]


def test_quantities_beside_versions_codes_and_flags_are_still_asked():
    assert _kinds("About 2.5 tons of grain were stored in the barn each winter.") == {"2.5": "number"}
    assert _kinds("The engine weighs 2.5 tons and needs 4 wheels on the road.") == {"2.5": "number", "4": "number"}
    assert _kinds("The parser reads 3 files if they exist and skips the rest.") == {"3": "number"}
    assert _kinds("The counter starts at 0 and the queue holds 4 jobs at most.") == {"0": "number", "4": "number"}
    assert _kinds("The depot on the hill held exactly 101 crates of supplies.") == {"101": "number"}


def test_a_count_the_grammar_or_the_sentence_gives_away_is_not_asked():
    for text in (
        "Tabs and backspaces are treated like any other character; they take up 1 character.",
        "An exit status of 0 means no differences were found, 1 means some were found, and 2 means trouble.",
        "So the overhead is reduced to only three characters: the underline and the two parentheses.",
        "Set ‘LANG’ to ‘es_ES.UTF-8’ and ‘LC_MESSAGES’ to ‘sv_SE.UTF-8’; these two locales come preinstalled.",
        "More precise units are a week worth 7 days and a day worth 24 hours in the date parser.",
        "For example, trace=open,close,read,write means to only trace those four system calls.",
        "There are two exceptions to this; '-daystart' and '-follow' have effects that depend on their place.",
        "Note: when both the ‘p’ and ‘e’ options are given, the relative ordering of the two gives different results.",
        "To increment one number you just add 1 to the last digit, replacing it by the following digit.",
        "Basic and extended regular expressions are two variations on the syntax of the specified pattern.",
        "Two regular expressions may be concatenated; the result matches strings made of two matching substrings.",
        'The minimum ovlog is 0, and the maximum is 9. 1 means "no overlap", hence completely independent jobs.',
        "The cipher works on a 64 bit (8 octets) block size and keeps its state between the calls.",
        "The hash has four popular variants (the testing S-box and the S-box defined by CryptoPro) in use.",
        "A range expression consists of two characters separated by a hyphen, and it matches any single character.",
    ):
        assert candidates(text, FactPool.from_texts([text])) == [], text
    # The same counts stand alone, where nothing gives them away.
    assert _wrong_values("Each of these two approaches has different advantages for the user.")
    assert _wrong_values("The program will exit with status 1 if the file cannot be read.")
    assert _wrong_values("The cipher works on a 64 bit block size and keeps its state between the calls.")
    assert _wrong_values("The hash has four popular variants in use (see the appendix) across the world.")
    assert _wrong_values("A range expression consists of three characters separated by commas in the file.")
