"""Rebuild the DOCX and PDF samples from the text below (needs python-docx and fpdf2: `pip install -e .[test]`)."""

from pathlib import Path

import docx
from fpdf import FPDF

HERE = Path(__file__).resolve().parent.parent / "samples"

PANAMA = [
    ("heading", "The Panama Canal"),
    (
        "para",
        "France began building a canal across the Isthmus of Panama in 1881 under Ferdinand de Lesseps, who "
        "had completed the Suez Canal in 1869. The French effort collapsed in 1889 after tropical disease, landslides "
        "and financial scandal; more than 20,000 workers died.",
    ),
    (
        "para",
        "The United States took over the project in 1904. Chief engineer John Frank Stevens chose a lock canal "
        "over a sea-level design, and George Washington Goethals, an Army engineer, led the work from 1907. "
        "William C. Gorgas cut yellow fever and malaria by draining standing water and fumigating buildings.",
    ),
    (
        "para",
        "The canal opened on August 15, 1914, when the cargo ship SS Ancon made the first official transit. "
        "Gatun Lake, formed by the Gatun Dam on the Chagres River, was at the time the largest artificial lake in the "
        "world. The United States handed the canal to Panama on December 31, 1999, under the Torrijos-Carter "
        "Treaties signed in 1977.",
    ),
    (
        "table",
        [
            ["Lock", "Side", "Chambers"],
            ["Gatun Locks", "Atlantic", "3 steps"],
            ["Pedro Miguel Locks", "Pacific", "1 step"],
            ["Miraflores Locks", "Pacific", "2 steps"],
        ],
    ),
]

MAGNA_CARTA = [
    "Magna Carta",
    "King John of England agreed to Magna Carta at Runnymede, a meadow beside the River Thames, on 15 June 1215. "
    "The charter was drafted by Stephen Langton, the Archbishop of Canterbury, to make peace between the king and "
    "a group of rebel barons.",
    "Clause 39 promised that no free man would be imprisoned or stripped of his rights except by the lawful "
    "judgement of his equals or by the law of the land. Clause 61, the security clause, set up a council of 25 "
    "barons who could seize the king's castles and lands if he broke the charter.",
    "Neither side kept the agreement. Pope Innocent III annulled the charter in August 1215, and the First "
    "Barons' War followed. After John died in October 1216, the charter was reissued in the name of his son, "
    "Henry III, and it was confirmed again in 1225. Four copies of the 1215 charter survive: two in the British "
    "Library and one each at Lincoln Cathedral and Salisbury Cathedral.",
]


def build_docx(path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "The Panama Canal"
    for kind, content in PANAMA:
        if kind == "heading":
            document.add_heading(content, level=1)
        elif kind == "para":
            document.add_paragraph(content)
        else:
            table = document.add_table(rows=len(content), cols=len(content[0]))
            for row, values in zip(table.rows, content, strict=True):
                for cell, value in zip(row.cells, values, strict=True):
                    cell.text = value
    document.save(str(path))


def build_pdf(path: Path) -> None:
    pdf = FPDF()
    pdf.set_title(MAGNA_CARTA[0])
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 10, MAGNA_CARTA[0], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=12)
    for index, paragraph in enumerate(MAGNA_CARTA[1:]):
        if index == 2:
            pdf.add_page()
        pdf.multi_cell(0, 7, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    pdf.output(str(path))


if __name__ == "__main__":
    build_docx(HERE / "panama-canal.docx")
    build_pdf(HERE / "magna-carta.pdf")
