"""Static reference data the demo network is drawn from: places, site kinds, products,
vehicles and the hardware error catalogue. Pure data, so the generator stays readable."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class City:
    name: str
    code: str  # three letters, used in station ids
    country: str
    country_code: str
    lat: float
    lng: float
    postal_codes: tuple[str, ...]
    streets: tuple[str, ...]
    districts: tuple[str, ...]


def _city(
    name: str,
    code: str,
    country: str,
    country_code: str,
    lat: float,
    lng: float,
    postal: str,
    streets: str,
    districts: str,
) -> City:
    return City(
        name,
        code,
        country,
        country_code,
        lat,
        lng,
        tuple(postal.split("|")),
        tuple(streets.split("|")),
        tuple(districts.split("|")),
    )


# (city, how many demo locations it gets): Finnish-heavy, as a Kempower CPO's network would be.
CITIES: tuple[tuple[City, int], ...] = (
    (
        _city(
            "Helsinki",
            "HEL",
            "Finland",
            "FI",
            60.1699,
            24.9384,
            "00100|00180|00220|00520|00980",
            "Mannerheimintie|Hämeentie|Itämerenkatu|Tyynenmerenkatu|Mechelininkatu",
            "Kamppi|Pasila|Vuosaari|Herttoniemi|Ruoholahti",
        ),
        4,
    ),
    (
        _city(
            "Espoo",
            "ESP",
            "Finland",
            "FI",
            60.2055,
            24.6559,
            "02100|02150|02230|02600",
            "Tapiolantie|Keilaranta|Otaniementie|Piispansilta|Leppävaarankatu",
            "Tapiola|Otaniemi|Leppävaara|Keilaniemi",
        ),
        3,
    ),
    (
        _city(
            "Vantaa",
            "VAN",
            "Finland",
            "FI",
            60.2934,
            25.0378,
            "01510|01530|01300|01740",
            "Tikkurilantie|Lentoasemantie|Valuraudankuja|Pakkalankuja",
            "Aviapolis|Tikkurila|Myyrmäki",
        ),
        2,
    ),
    (
        _city(
            "Tampere",
            "TMP",
            "Finland",
            "FI",
            61.4978,
            23.7610,
            "33100|33200|33720|33540",
            "Hämeenkatu|Hatanpään valtatie|Sammonkatu|Lempääläntie",
            "Hervanta|Lielahti|Ratina|Hatanpää",
        ),
        3,
    ),
    (
        _city(
            "Turku",
            "TKU",
            "Finland",
            "FI",
            60.4518,
            22.2666,
            "20100|20200|20320",
            "Eerikinkatu|Itäinen Pitkäkatu|Ratapihankatu",
            "Skanssi|Kupittaa|Linnakaupunki",
        ),
        2,
    ),
    (
        _city(
            "Oulu",
            "OUL",
            "Finland",
            "FI",
            65.0121,
            25.4651,
            "90100|90130|90570",
            "Kauppurienkatu|Isokatu|Kiviharjuntie",
            "Ritaharju|Limingantulli|Toppila",
        ),
        2,
    ),
    (
        _city(
            "Jyväskylä",
            "JYV",
            "Finland",
            "FI",
            62.2426,
            25.7473,
            "40100|40320",
            "Kauppakatu|Vaajakoskentie",
            "Seppälä|Keskusta",
        ),
        1,
    ),
    (
        _city(
            "Lahti",
            "LAH",
            "Finland",
            "FI",
            60.9827,
            25.6612,
            "15100|15140",
            "Aleksanterinkatu|Mukkulankatu",
            "Renkomäki|Kauppatori",
        ),
        1,
    ),
    (
        _city(
            "Stockholm",
            "STO",
            "Sweden",
            "SE",
            59.3293,
            18.0686,
            "111 20|113 59|116 45|164 40",
            "Sveavägen|Vasagatan|Kungsgatan|Götgatan|Kistagången",
            "Kista|Hammarby Sjöstad|Solna|Södermalm",
        ),
        3,
    ),
    (
        _city(
            "Göteborg",
            "GOT",
            "Sweden",
            "SE",
            57.7089,
            11.9746,
            "411 03|417 56",
            "Kungsportsavenyen|Lindholmsallén|Södra Vägen",
            "Lindholmen|Backaplan",
        ),
        1,
    ),
    (
        _city(
            "Oslo",
            "OSL",
            "Norway",
            "NO",
            59.9139,
            10.7522,
            "0150|0250|0484|0661",
            "Karl Johans gate|Drammensveien|Trondheimsveien|Ryensvingen",
            "Alnabru|Skøyen|Økern",
        ),
        2,
    ),
    (
        _city(
            "København",
            "CPH",
            "Denmark",
            "DK",
            55.6761,
            12.5683,
            "1050|2300|2450",
            "Vesterbrogade|Amagerbrogade|Sydhavnsgade",
            "Ørestad|Nordhavn",
        ),
        1,
    ),
    (
        _city(
            "Berlin",
            "BER",
            "Germany",
            "DE",
            52.5200,
            13.4050,
            "10115|10178|10557|12057",
            "Friedrichstraße|Kurfürstendamm|Sonnenallee|Invalidenstraße",
            "Adlershof|Moabit|Schönefeld",
        ),
        2,
    ),
    (
        _city(
            "Hamburg",
            "HAM",
            "Germany",
            "DE",
            53.5511,
            9.9937,
            "20095|20457|22297",
            "Mönckebergstraße|Am Sandtorkai|Jarrestraße",
            "HafenCity|Billbrook",
        ),
        1,
    ),
    (
        _city(
            "Amsterdam",
            "AMS",
            "Netherlands",
            "NL",
            52.3676,
            4.9041,
            "1012 AB|1043 DP|1096 HA",
            "Damrak|Stadhouderskade|Johan Huizingalaan",
            "Sloterdijk|Zuidas",
        ),
        1,
    ),
    (
        _city(
            "Tallinn",
            "TLL",
            "Estonia",
            "EE",
            59.4370,
            24.7536,
            "10111|10145|11415",
            "Narva mnt|Pärnu mnt|Peterburi tee",
            "Ülemiste|Kesklinn",
        ),
        1,
    ),
)


@dataclass(frozen=True, slots=True)
class SiteKind:
    """What a site is for; decides its stations, its classification and how busy it is."""

    label: str
    access: str
    application_types: tuple[str, ...]
    facilities: tuple[str, ...]
    parking_type: str
    products: tuple[str, ...]  # keys of PRODUCTS, drawn with repetition
    sessions_per_evse_day: float
    fleet: bool  # buses and trucks rather than cars; sessions may carry a schedule


SITE_KINDS: tuple[SiteKind, ...] = (
    SiteKind(
        "Highway Services",
        "PUBLIC",
        ("HIGHWAY_FUEL_STATION",),
        ("FUEL_STATION", "RESTAURANT"),
        "ALONG_MOTORWAY",
        ("sat600", "sat360", "station200"),
        0.98,
        False,
    ),
    SiteKind(
        "Shopping Centre",
        "PUBLIC",
        ("SHOPPING_MALL",),
        ("MALL", "SUPERMARKET"),
        "PARKING_GARAGE",
        ("station200", "station120", "ac22"),
        0.52,
        False,
    ),
    SiteKind(
        "Retail Park",
        "PUBLIC",
        ("RETAIL_STORE",),
        ("SUPERMARKET",),
        "PARKING_LOT",
        ("station120", "station200", "movable40"),
        0.52,
        False,
    ),
    SiteKind(
        "Bus Depot",
        "PRIVATE",
        ("DEPOT",),
        ("BUS_STOP",),
        "PARKING_LOT",
        ("depot600", "sat360"),
        0.68,
        True,
    ),
    SiteKind(
        "Logistics Hub",
        "PRIVATE",
        ("WAREHOUSE", "DEPOT"),
        (),
        "PARKING_LOT",
        ("sat600", "station200"),
        0.45,
        True,
    ),
    SiteKind(
        "Airport P-Hall",
        "PUBLIC",
        ("TRANSPORTATION", "PARKING_LOT"),
        ("AIRPORT",),
        "PARKING_GARAGE",
        ("station120", "ac22", "ac22"),
        0.38,
        False,
    ),
    SiteKind(
        "Central Station Garage",
        "PUBLIC",
        ("TRANSPORTATION",),
        ("TRAIN_STATION", "METRO_STATION"),
        "UNDERGROUND_GARAGE",
        ("station120", "ac22"),
        0.45,
        False,
    ),
    SiteKind(
        "Business Park",
        "PRIVATE",
        ("WORKPLACE",),
        (),
        "PARKING_LOT",
        ("ac22", "ac22", "acbasic", "station120"),
        0.3,
        False,
    ),
    SiteKind(
        "Hotel Garage",
        "PUBLIC",
        ("LODGING",),
        ("HOTEL", "RESTAURANT"),
        "UNDERGROUND_GARAGE",
        ("ac22", "acbasic", "station120"),
        0.26,
        False,
    ),
    SiteKind(
        "Harbour Terminal",
        "PUBLIC",
        ("MARINE_DOCK", "TRANSPORTATION"),
        ("CAFE",),
        "PARKING_LOT",
        ("station200", "sat360"),
        0.38,
        False,
    ),
    SiteKind(
        "Sports Arena",
        "PUBLIC",
        ("RECREATION",),
        ("SPORT",),
        "PARKING_LOT",
        ("station120", "movable40", "ac22", "acbasic"),
        0.26,
        False,
    ),
    SiteKind(
        "Taxi Hub",
        "PRIVATE",
        ("TRANSPORTATION",),
        ("TAXI_STAND",),
        "ON_STREET",
        ("station200", "station120"),
        0.83,
        False,
    ),
)


@dataclass(frozen=True, slots=True)
class Product:
    """A charger product: its inventory data and how its EVSEs look."""

    vendor: str
    model: str
    product_name: str
    product_code: str
    firmware: tuple[str, ...]
    max_power_kw: float
    outlets: tuple[tuple[str, float], ...]  # (EVSE type, rated kW) for the smallest build
    extra_outlets: tuple[int, int]  # how many more outlets of the first kind a build may add
    capabilities: str
    is_ac: bool = False


_DC_CAPS = "SerialConnection,RemoteStartStop,SmartCharging,ReservationSupport,LocalAuthList"
_AC_CAPS = "RemoteStartStop,SmartCharging,LocalAuthList"

PRODUCTS: dict[str, Product] = {
    "sat600": Product(
        "Kempower",
        "Satellite System 600 kW",
        "Kempower Power Unit 600 kW with satellites",
        "C506P600ND",
        ("1.46.2", "1.47.1", "1.48.0"),
        600.0,
        (("CCS", 240.0), ("CCS", 240.0), ("CHAdeMO", 100.0)),
        (1, 4),
        _DC_CAPS + ",PlugAndCharge",
    ),
    "sat360": Product(
        "Kempower",
        "Satellite System 360 kW",
        "Kempower Power Unit 360 kW with satellites",
        "C503P360ND",
        ("1.44.7", "1.46.2", "1.47.1"),
        360.0,
        (("CCS", 240.0), ("CCS", 240.0)),
        (0, 2),
        _DC_CAPS,
    ),
    "depot600": Product(
        "Kempower",
        "Depot Charging System 600 kW",
        "Kempower Depot Power Unit 600 kW",
        "C506P600DP",
        ("1.47.1", "1.48.0"),
        600.0,
        (("oppcharge", 450.0), ("CCS", 300.0), ("CCS", 300.0)),
        (1, 3),
        _DC_CAPS,
    ),
    "station200": Product(
        "Kempower",
        "Station Charger 200 kW",
        "Kempower S-Series Station Charger 200 kW",
        "S502P200D2",
        ("1.44.7", "1.46.2", "1.48.0"),
        200.0,
        (("CCS", 200.0), ("CCS", 200.0)),
        (0, 0),
        _DC_CAPS,
    ),
    "station120": Product(
        "Kempower",
        "Station Charger 120 kW",
        "Kempower S-Series Station Charger 120 kW",
        "S502P120D2",
        ("1.44.7", "1.46.2"),
        120.0,
        (("CCS", 120.0), ("CHAdeMO", 50.0)),
        (0, 0),
        _DC_CAPS,
    ),
    "movable40": Product(
        "Kempower",
        "Movable Charger 40 kW",
        "Kempower Movable Charger 40 kW",
        "M501P040D1",
        ("2.3.0", "2.4.1"),
        40.0,
        (("CCS", 40.0),),
        (0, 0),
        _DC_CAPS,
    ),
    "ac22": Product(
        "Alfen",
        "Eve Double Pro-line",
        "Alfen Eve Double Pro-line 2x22 kW",
        "904461102",
        ("6.2.0", "6.4.1"),
        44.0,
        (("Type2", 22.0), ("Type2", 22.0)),
        (0, 0),
        _AC_CAPS,
        is_ac=True,
    ),
    "acbasic": Product(
        "Garo",
        "GLB Wallbox",
        "Garo GLB Wallbox 11 kW",
        "GLB-T2-11",
        ("4.2.9",),
        11.0,
        (("AC", 11.0),),
        (0, 0),
        _AC_CAPS,
        is_ac=True,
    ),
}

CARS: tuple[tuple[str, str], ...] = (
    ("Tesla", "Model 3"),
    ("Tesla", "Model Y"),
    ("Volkswagen", "ID.4"),
    ("Volkswagen", "ID.3"),
    ("Skoda", "Enyaq iV"),
    ("Hyundai", "Ioniq 5"),
    ("Kia", "EV6"),
    ("Polestar", "2"),
    ("Volvo", "XC40 Recharge"),
    ("BMW", "i4"),
    ("Mercedes-Benz", "EQA"),
    ("Audi", "Q4 e-tron"),
    ("Ford", "Mustang Mach-E"),
    ("BYD", "Atto 3"),
    ("MG", "MG4"),
    ("Toyota", "bZ4X"),
)
CHADEMO_CARS: tuple[tuple[str, str], ...] = (("Nissan", "Leaf"), ("Nissan", "e-NV200"))
FLEET_VEHICLES: tuple[tuple[str, str], ...] = (
    ("Volvo", "7900 Electric"),
    ("Solaris", "Urbino 12 electric"),
    ("Scania", "Citywide BEV"),
    ("Volvo", "FH Electric"),
    ("Mercedes-Benz", "eActros"),
)

TENANT_LABELS: tuple[str, ...] = (
    "24/7 access",
    "Barrier gate, call for entry",
    "Pilot site",
    "Roaming: Hubject",
    "Snow clearing by landlord",
    "Height limit 2.1 m",
    "Card payment terminal",
)
CPO_ONLY_LABELS: tuple[str, ...] = ("Lease renewal 2026", "Grid upgrade planned", "Key account")
EMSP_ONLY_LABELS: tuple[str, ...] = ("Partner tariff", "App featured site")
MAINTENANCE_ONLY_LABELS: tuple[str, ...] = ("Quarterly inspection", "Spare parts on site")

# Why a session is listed among problematic sessions, per technical fail classification.
SESSION_ALERTS: dict[str, str] = {
    "HANDSHAKE_FAIL": "Vehicle communication failed before charging started",
    "HANDSHAKE_CANCELED": "Session cancelled while charging was being prepared",
    "ABRUPT_STOP": "Charging stopped by the charger within seconds of start",
    "ABRUPTLY_CANCELED": "User stopped the session within seconds of start",
    "LOW_POWER": "Charging power stayed at or below 1 kW",
    "INVALID_USER": "Authorisation rejected by the roaming platform",
    "NOT_IDENTIFIED": "Vehicle plugged in but the session was never authorised",
    "RUNNING_ALARM": "Isolation fault raised during charging",
}


@dataclass(frozen=True, slots=True)
class ErrorText:
    code: str
    title: str
    severity: str
    description: str
    possible_cause: str
    potential_impact: str
    potential_solution: str
    self_help_steps: str
    documentation: str
    internal_notes: str
    alias: tuple[str, ...]
    state: str = "published"
    ac_only: bool = False


ERROR_TEXTS: tuple[ErrorText, ...] = (
    ErrorText(
        "PU-1021",
        "Power module overtemperature",
        "critical",
        "A power module in the power unit exceeded its temperature limit and was shut down.",
        "Blocked air inlet, failed cabinet fan or very high ambient temperature.",
        "Available output power drops; all outlets may stop if several modules trip.",
        "Clean the air filters and check the cabinet fans; replace a failed fan.",
        "1. Check that nothing blocks the air inlets. 2. Restart the power unit from ChargEye.",
        "Service manual, chapter 9.2 (Thermal management)",
        "Fans from one 2022 supplier batch wear out early; replace under warranty.",
        ("E1021", "PM_OVERTEMP"),
    ),
    ErrorText(
        "PU-2040",
        "Isolation monitoring fault",
        "critical",
        "The insulation monitoring device measured too low a resistance between DC and earth.",
        "Moisture in a charging cable or connector, damaged cable, faulty vehicle inlet.",
        "The affected outlet refuses to charge until the fault clears.",
        "Inspect the cable and connector of the outlet; dry or replace the cable.",
        "1. Check the connector for water or dirt. 2. Try another vehicle to rule it out.",
        "Service manual, chapter 7.4 (Insulation monitoring)",
        "Often the vehicle, not the charger: check whether one evId repeats.",
        ("E2040", "IMD_FAULT"),
    ),
    ErrorText(
        "PU-2210",
        "Emergency stop activated",
        "critical",
        "The emergency stop button of the unit was pressed; all outputs are disabled.",
        "Someone pressed the emergency stop, or its circuit is damaged.",
        "The whole station is unavailable.",
        "Release the emergency stop button after checking the site is safe.",
        "1. Make sure the site is safe. 2. Turn the emergency stop button to release it.",
        "User manual, chapter 3.1 (Safety functions)",
        "Repeated presses at one site: consider a protective cover.",
        ("E2210", "ESTOP"),
    ),
    ErrorText(
        "SAT-3102",
        "Cable cooling pump failure",
        "major",
        "The liquid cooling circuit of a high-power cable lost flow.",
        "Pump failure, air in the circuit or a coolant leak.",
        "The outlet is limited to low power or taken out of use.",
        "Check the coolant level and the pump; bleed the circuit.",
        "1. Look for coolant under the satellite. 2. Report the outlet number to service.",
        "Service manual, chapter 9.5 (Liquid-cooled cables)",
        "Field kit SK-310 contains the pump and the bleed tool.",
        ("E3102", "COOLING_FLOW"),
    ),
    ErrorText(
        "SAT-3307",
        "Output contactor welded",
        "major",
        "A DC output contactor did not open when commanded.",
        "Contact wear after many load breaks, or an overcurrent event.",
        "The outlet is blocked for safety until the contactor is replaced.",
        "Replace the contactor assembly of the affected satellite.",
        "No self-help: contact service.",
        "Service manual, chapter 8.3 (Contactors)",
        "Check the load-break counter in the service tool before replacing.",
        ("E3307", "CONTACTOR_WELD"),
    ),
    ErrorText(
        "PU-1100",
        "AC input undervoltage",
        "major",
        "The grid voltage at the power unit input stayed below the allowed range.",
        "Grid disturbance, loose input terminal or a blown fuse on one phase.",
        "Output power is reduced or charging stops.",
        "Measure the three input phases; tighten terminals; contact the grid operator.",
        "1. Check the main fuses of the site. 2. Restart the unit once the grid is stable.",
        "Installation manual, chapter 5.1 (Grid connection)",
        "Sites in rural grids see this in storms; check the grid operator's outage map.",
        ("E1100", "AC_UNDERVOLT"),
    ),
    ErrorText(
        "SAT-4012",
        "Cooling fan speed low",
        "minor",
        "A satellite cooling fan runs below its expected speed.",
        "Dust build-up or a worn fan bearing.",
        "Power may be limited on hot days.",
        "Clean or replace the fan.",
        "1. Clean the air grille of the satellite.",
        "Service manual, chapter 9.3 (Fans)",
        "Replace proactively at the next visit.",
        ("E4012", "FAN_LOW"),
    ),
    ErrorText(
        "COM-5003",
        "Satellite communication timeout",
        "minor",
        "The power unit lost contact with a satellite for more than 30 seconds.",
        "Damaged communication cable, loose connector or electrical noise.",
        "The satellite is unavailable while the link is down.",
        "Check the communication cable between the power unit and the satellite.",
        "1. Restart the station from ChargEye.",
        "Service manual, chapter 6.2 (Internal bus)",
        "Correlates with welding work on neighbouring sites; ask the site owner.",
        ("E5003", "SAT_COMM_TIMEOUT"),
    ),
    ErrorText(
        "SAT-4200",
        "RFID reader not responding",
        "minor",
        "The RFID reader of the outlet does not answer.",
        "Reader module failure or a loose cable.",
        "Drivers cannot start sessions with RFID cards; app and card terminal still work.",
        "Reseat the reader cable or replace the reader.",
        "1. Use the app or the payment terminal meanwhile.",
        "Service manual, chapter 6.5 (User interface)",
        "Reader firmware 2.1 fixes a lock-up; update before replacing hardware.",
        ("E4200", "RFID_DOWN"),
    ),
    ErrorText(
        "COM-5101",
        "Weak mobile signal",
        "warning",
        "The station modem reports a weak mobile network signal.",
        "Poor coverage, antenna damage or an underground installation.",
        "Remote start, tariffs and status updates may be delayed.",
        "Install an external antenna or switch to a wired connection.",
        "No action needed unless sessions fail to start remotely.",
        "Installation manual, chapter 6.1 (Connectivity)",
        "Underground garages: recommend the roof antenna kit.",
        ("W5101", "RSSI_LOW"),
    ),
    ErrorText(
        "PU-6001",
        "Air filter service due",
        "warning",
        "The operating hours since the last filter change exceed the service interval.",
        "Regular wear.",
        "None yet; power may be limited if filters clog.",
        "Replace the air filters and reset the service counter.",
        "Schedule the filter change with the next maintenance visit.",
        "Service manual, chapter 4 (Preventive maintenance)",
        "Counter resets only from the service tool.",
        ("W6001", "FILTER_DUE"),
    ),
    ErrorText(
        "SAT-4310",
        "Touch display unresponsive",
        "warning",
        "The satellite display does not register touches.",
        "Condensation, extreme cold or a failed touch controller.",
        "Drivers cannot use the on-screen menu; plug-and-charge and app still work.",
        "Restart the satellite; replace the display if it persists.",
        "1. Wipe the screen dry. 2. Restart the station from ChargEye.",
        "Service manual, chapter 6.4 (Display)",
        "Draft entry pending review by product support.",
        ("W4310",),
        state="draft",
    ),
    ErrorText(
        "AC-7001",
        "Residual current device tripped",
        "major",
        "The built-in residual current protection of the socket tripped.",
        "Earth leakage in the vehicle or cable, moisture, or a faulty RCD.",
        "The socket is unavailable until the RCD is reset.",
        "Reset the RCD; if it trips again, test the installation.",
        "1. Unplug the vehicle. 2. Reset the RCD behind the service hatch.",
        "Vendor manual, chapter 5.3 (Protection devices)",
        "Third-party AC hardware: escalate to the vendor after two trips.",
        ("RCD_TRIP",),
        ac_only=True,
    ),
    ErrorText(
        "AC-7105",
        "Socket lock motor failure",
        "minor",
        "The cable lock of a Type 2 socket did not reach its end position.",
        "Worn lock motor or a foreign object in the socket.",
        "The socket cannot lock the cable and refuses to charge.",
        "Clean the socket; replace the lock actuator if needed.",
        "1. Check the socket for debris. 2. Insert and remove the cable once.",
        "Vendor manual, chapter 5.6 (Socket lock)",
        "Common after winters with road salt.",
        ("LOCK_FAIL",),
        ac_only=True,
    ),
)
