from quita.payments.domain.pix import build_static
from quita.payments.qr import qr_matrix, qr_png, qr_svg

PAYLOAD = build_static(key="+5511999998888", merchant_name="Credor Teste", merchant_city="Sao Paulo")


def test_png_and_svg() -> None:
    png = qr_png(PAYLOAD)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    svg = qr_svg(PAYLOAD)
    assert "<svg" in svg and "</svg>" in svg


def test_matrix_is_square_with_finder_patterns() -> None:
    matrix = qr_matrix(PAYLOAD)
    size = len(matrix)
    assert all(len(row) == size for row in matrix)
    assert (size - 17) % 4 == 0  # QR version sizes are 21, 25, 29, …
    assert all(matrix[0][:7]) and all(matrix[6][:7])
