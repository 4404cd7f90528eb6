/**
 * A lead's likely IANA time zone from an ADDRESS's country (ISO alpha-2) and, for the
 * commonest countries spanning several zones, its state or province. Only used when
 * nothing better is known; a country or state not in these tables gives no hint
 * rather than a wrong one. A state split between zones maps to the zone most of its
 * people live in.
 */

/** Countries that keep one zone (for practical purposes of reaching a lead). */
const SINGLE_ZONE: Record<string, string> = {
  AE: "Asia/Dubai",
  AR: "America/Argentina/Buenos_Aires",
  AT: "Europe/Vienna",
  BE: "Europe/Brussels",
  BG: "Europe/Sofia",
  CH: "Europe/Zurich",
  CN: "Asia/Shanghai",
  CO: "America/Bogota",
  CZ: "Europe/Prague",
  DE: "Europe/Berlin",
  DK: "Europe/Copenhagen",
  EE: "Europe/Tallinn",
  EG: "Africa/Cairo",
  FI: "Europe/Helsinki",
  FR: "Europe/Paris",
  GB: "Europe/London",
  GR: "Europe/Athens",
  HK: "Asia/Hong_Kong",
  HR: "Europe/Zagreb",
  HU: "Europe/Budapest",
  IE: "Europe/Dublin",
  IL: "Asia/Jerusalem",
  IN: "Asia/Kolkata",
  IS: "Atlantic/Reykjavik",
  IT: "Europe/Rome",
  JP: "Asia/Tokyo",
  KE: "Africa/Nairobi",
  KR: "Asia/Seoul",
  LT: "Europe/Vilnius",
  LU: "Europe/Luxembourg",
  LV: "Europe/Riga",
  NG: "Africa/Lagos",
  NL: "Europe/Amsterdam",
  NO: "Europe/Oslo",
  NZ: "Pacific/Auckland",
  PE: "America/Lima",
  PH: "Asia/Manila",
  PK: "Asia/Karachi",
  PL: "Europe/Warsaw",
  RO: "Europe/Bucharest",
  SA: "Asia/Riyadh",
  SE: "Europe/Stockholm",
  SG: "Asia/Singapore",
  SI: "Europe/Ljubljana",
  SK: "Europe/Bratislava",
  TH: "Asia/Bangkok",
  TR: "Europe/Istanbul",
  TW: "Asia/Taipei",
  UA: "Europe/Kyiv",
  VN: "Asia/Ho_Chi_Minh",
  ZA: "Africa/Johannesburg",
};

const zones = (table: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(table).flatMap(([zone, codes]) => codes.split(" ").map((c) => [c, zone])),
  );

/** By state/province code (ISO 3166-2 suffix, as addresses usually carry it). */
const BY_STATE: Record<string, Record<string, string>> = {
  US: zones({
    "America/New_York": "CT DC DE FL GA IN KY MA MD ME MI NC NH NJ NY OH PA RI SC VA VT WV",
    "America/Chicago": "AL AR IA IL KS LA MN MO MS ND NE OK SD TN TX WI",
    "America/Denver": "CO ID MT NM UT WY",
    "America/Phoenix": "AZ",
    "America/Los_Angeles": "CA NV OR WA",
    "America/Anchorage": "AK",
    "Pacific/Honolulu": "HI",
  }),
  CA: zones({
    "America/Vancouver": "BC",
    "America/Edmonton": "AB",
    "America/Regina": "SK",
    "America/Winnipeg": "MB",
    "America/Toronto": "ON QC",
    "America/Halifax": "NS PE",
    "America/Moncton": "NB",
    "America/St_Johns": "NL",
    "America/Whitehorse": "YT",
    "America/Yellowknife": "NT",
  }),
  AU: zones({
    "Australia/Sydney": "NSW ACT",
    "Australia/Melbourne": "VIC",
    "Australia/Brisbane": "QLD",
    "Australia/Adelaide": "SA",
    "Australia/Perth": "WA",
    "Australia/Hobart": "TAS",
    "Australia/Darwin": "NT",
  }),
  BR: zones({
    "America/Sao_Paulo": "SP RJ MG ES PR SC RS GO DF",
    "America/Bahia": "BA",
    "America/Recife": "PE",
    "America/Fortaleza": "CE",
    "America/Manaus": "AM",
    "America/Belem": "PA",
    "America/Cuiaba": "MT",
    "America/Campo_Grande": "MS",
  }),
  MX: zones({
    "America/Mexico_City": "CMX DF MEX JAL NLE PUE GUA QUE",
    "America/Tijuana": "BCN",
  }),
};

/** Full names as addresses often spell them, for the states above that are commonest. */
const STATE_NAMES: Record<string, string> = {
  california: "CA",
  "new york": "NY",
  texas: "TX",
  florida: "FL",
  illinois: "IL",
  washington: "WA",
  massachusetts: "MA",
  colorado: "CO",
  arizona: "AZ",
  georgia: "GA",
  "british columbia": "BC",
  alberta: "AB",
  ontario: "ON",
  quebec: "QC",
  québec: "QC",
  "new south wales": "NSW",
  victoria: "VIC",
  queensland: "QLD",
  "western australia": "WA",
  "são paulo": "SP",
  "sao paulo": "SP",
  "rio de janeiro": "RJ",
};

/** The likely zone for a country and optional state; undefined when unsure. */
export function timezoneHint(country: string, state?: string): string | undefined {
  const cc = country.trim().toUpperCase();
  const byState = BY_STATE[cc];
  if (!byState) return SINGLE_ZONE[cc];
  if (!state) return undefined;
  const raw = state.trim();
  const code = (STATE_NAMES[raw.toLowerCase()] ?? raw.replace(/^[A-Z]{2}-/i, "")).toUpperCase();
  return byState[code];
}
