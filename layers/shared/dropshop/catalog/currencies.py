"""ISO 4217 currencies of actual money and their minor units, and the one way an amount in them is printed.

Every amount in the shop is an integer count of its currency's minor unit; the currency's exponent says how
many of those make one major unit: 1250 is 12.50 EUR (exponent 2), 1,250 JPY (0), 1.250 KWD (3), 0.1250 CLF
(4). Codes without a minor unit in ISO 4217 (gold, SDRs, the testing codes XTS and XXX: "N.A.") are not
money the shop can price, so they are not in the table and every model refuses them.

The table is as published in the standard (iso4217 1.16, 2026-01-01; tests/unit/test_currencies.py checks
codes and exponents against the package). A literal, not the package: reading its XML costs 30 ms at every
cold start."""

_CODES_BY_EXPONENT = {
    0: "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
    2: (
        "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE "
        "CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD "
        "HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK "
        "MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD "
        "RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH "
        "USD USN UYU UZS VED VES WST XAD XCD XCG YER ZAR ZMW ZWG"
    ),
    3: "BHD IQD JOD KWD LYD OMR TND",
    4: "CLF UYW",
}
MINOR_UNITS: dict[str, int] = {
    code: exponent for exponent, codes in _CODES_BY_EXPONENT.items() for code in codes.split()
}
"""Code → exponent: how many decimal digits its minor unit has."""
CURRENCIES = frozenset(MINOR_UNITS)


def format_amount(amount: int, currency: str) -> str:
    """An amount in minor units as documents and e-mails print it, with exactly its currency's decimals:
    12.50 EUR, -1,000 JPY, 1.234 KWD. Integer arithmetic only, so no amount is ever rounded."""
    exponent = MINOR_UNITS[currency]
    major, minor = divmod(abs(amount), 10**exponent)
    sign = "-" if amount < 0 else ""
    decimals = f".{minor:0{exponent}d}" if exponent else ""
    return f"{sign}{major:,}{decimals} {currency}"
