"""Invoices and credit notes as PDFs (fpdf2). DejaVu Sans is embedded (subset), so any buyer's name prints as
written. Each shows what an EU VAT invoice must (Directive 2006/112/EC, art. 226): the seller's VAT number,
a sequential number, the date, each line with its VAT rate, and per rate the taxable amount, the rate and
the VAT; a credit note also names the invoice it corrects."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from dropshop.catalog.vat import percent
from dropshop.invoicing.model import CreditNote, TaxDocument
from dropshop.platform.shop import SHOP

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVu"
LINE_COLUMNS = (("Item", 80, "L"), ("Qty", 15, "R"), ("VAT", 20, "R"), ("Unit price", 32, "R"), ("Amount", 33, "R"))
VAT_COLUMNS = (("VAT rate", 45, "R"), ("Net", 45, "R"), ("VAT", 45, "R"), ("Gross", 45, "R"))


def render(document: TaxDocument) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"{document.TITLE} {document.number}")
    pdf.set_author(SHOP.name)
    pdf.set_creation_date(datetime.fromisoformat(document.issued_at))  # a re-render prints the same document
    pdf.add_font(FONT, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.add_page()

    pdf.set_font(FONT, "B", 18)
    pdf.cell(0, 10, f"{document.TITLE} {document.number}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(0, 5, "\n".join([SHOP.name, *SHOP.address, f"VAT {SHOP.vat_id}"]))
    pdf.ln(6)

    buyer = [document.customer_name or "Customer", document.customer_email or document.customer_id]
    pdf.set_font(FONT, "B", 10)
    pdf.cell(0, 5, "Billed to", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(0, 5, "\n".join(buyer))
    pdf.ln(4)
    pdf.cell(0, 5, f"Issued: {document.issued_at[:10]}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 5, f"Order: {document.order_id}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if isinstance(document, CreditNote):
        corrects = f"Credits invoice {document.invoice_number} of {document.invoice_issued_at[:10]} in full."
        pdf.cell(0, 5, corrects, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)

    with pdf.table(col_widths=[w for _, w, _ in LINE_COLUMNS], text_align=[a for *_, a in LINE_COLUMNS]) as table:
        table.row([title for title, _, _ in LINE_COLUMNS])
        for line in document.lines:
            rate = percent(line.vat_rate)
            table.row([line.description, str(line.quantity), rate, str(line.unit_price), str(line.total)])
    pdf.ln(4)

    with pdf.table(col_widths=[w for _, w, _ in VAT_COLUMNS], text_align=[a for *_, a in VAT_COLUMNS]) as table:
        table.row([title for title, _, _ in VAT_COLUMNS])
        for row in document.vat_breakdown:
            table.row([percent(row.rate), str(row.net), str(row.vat), str(row.gross)])
    pdf.ln(4)

    pdf.set_font(FONT, "", 10)
    for label, amount in (("Total net", document.net_total), ("Total VAT", document.vat_total)):
        pdf.cell(0, 6, f"{label} {amount}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 8, f"Total {document.total}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 8)
    pdf.cell(0, 5, "Prices include VAT.", align="R")
    return bytes(pdf.output())
