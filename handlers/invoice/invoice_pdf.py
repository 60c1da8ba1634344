"""An invoice as a PDF (fpdf2). DejaVu Sans is embedded (subset), so any buyer's name prints as written."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from dropshop.invoicing.model import Invoice
from dropshop.platform.shop import SHOP

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVu"
COLUMNS = (("Item", 95, "L"), ("Qty", 15, "R"), ("Unit price", 35, "R"), ("Amount", 35, "R"))


def render(invoice: Invoice) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"Invoice {invoice.number}")
    pdf.set_author(SHOP.name)
    pdf.set_creation_date(datetime.fromisoformat(invoice.issued_at))  # a re-render prints the same document
    pdf.add_font(FONT, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.add_page()

    pdf.set_font(FONT, "B", 18)
    pdf.cell(0, 10, f"Invoice {invoice.number}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(0, 5, "\n".join([SHOP.name, *SHOP.address, f"VAT {SHOP.vat_id}"]))
    pdf.ln(6)

    buyer = [invoice.customer_name or "Customer", invoice.customer_email or invoice.customer_id]
    pdf.set_font(FONT, "B", 10)
    pdf.cell(0, 5, "Billed to", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(0, 5, "\n".join(buyer))
    pdf.ln(4)
    pdf.cell(0, 5, f"Issued: {invoice.issued_at[:10]}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 5, f"Order: {invoice.order_id}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)

    with pdf.table(col_widths=[width for _, width, _ in COLUMNS], text_align=[a for *_, a in COLUMNS]) as table:
        table.row([title for title, _, _ in COLUMNS])
        for line in invoice.lines:
            table.row([line.description, str(line.quantity), str(line.unit_price), str(line.total)])
    pdf.ln(4)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 8, f"Total {invoice.total}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 8)
    pdf.cell(0, 5, "Prices include VAT.", align="R")
    return bytes(pdf.output())
