/**
 * The words synthetic leads are made of: job titles per seniority level (each one
 * classified as its level by the scorer's title rules — lead-model.test.ts checks every
 * one), first and last names, company names, and where leads sit.
 */
import type { SeniorityLevel } from "./world-leads.ts";

/**
 * The scorer reads the level off the title, first rule that matches wins: c-level
 * (chief, CEO…, founder, owner, president), vp (vp, vice president, svp, evp, head
 * of), director, manager (manager, lead, principal), else individual. So a "Vice
 * President" reads as c-level and a "Product Owner" too: neither is listed.
 */
export const TITLES: Record<Exclude<SeniorityLevel, "unknown">, readonly string[]> = {
  c_level: [
    "Chief Executive Officer",
    "CEO",
    "CTO",
    "CFO",
    "COO",
    "CMO",
    "Chief Revenue Officer",
    "Founder",
    "Co-Founder & CEO",
    "President",
    "Owner",
  ],
  vp: [
    "VP of Sales",
    "VP Marketing",
    "VP Engineering",
    "SVP Revenue",
    "EVP Operations",
    "Head of Growth",
    "Head of Sales",
    "Head of Customer Success",
  ],
  director: [
    "Director of Marketing",
    "Sales Director",
    "Engineering Director",
    "Director of Operations",
    "Senior Director, Demand Generation",
    "IT Director",
  ],
  manager: [
    "Marketing Manager",
    "Sales Manager",
    "Engineering Manager",
    "Product Manager",
    "Account Manager",
    "Team Lead, Support",
    "Principal Engineer",
  ],
  individual: [
    "Account Executive",
    "Software Engineer",
    "Analyst",
    "Data Scientist",
    "Sales Development Representative",
    "Marketing Specialist",
    "Accountant",
    "Designer",
    "Consultant",
    "Customer Success Associate",
  ],
};

export const FIRST_NAMES = [
  "Maria",
  "James",
  "Aisha",
  "Wei",
  "Sofia",
  "Lucas",
  "Priya",
  "Noah",
  "Elena",
  "Kenji",
  "Fatima",
  "Oliver",
  "Chloe",
  "Mateo",
  "Hannah",
  "Samuel",
  "Ines",
  "Daniel",
  "Leila",
  "Tom",
] as const;

export const LAST_NAMES = [
  "Chen",
  "Smith",
  "Okafor",
  "Garcia",
  "Müller",
  "Rossi",
  "Patel",
  "Nguyen",
  "Kowalski",
  "Dubois",
  "Silva",
  "Johansson",
  "Tanaka",
  "Brown",
  "Haddad",
  "Novak",
  "Murphy",
  "Schmidt",
  "Costa",
  "Jensen",
] as const;

const COMPANY_FIRST = [
  "Northwind",
  "Bluefin",
  "Acme",
  "Granite",
  "Lumen",
  "Harbor",
  "Juniper",
  "Vertex",
  "Copper",
  "Atlas",
  "Meridian",
  "Orchid",
] as const;
const COMPANY_SECOND = [
  "Analytics",
  "Labs",
  "Systems",
  "Health",
  "Works",
  "Logistics",
  "Partners",
  "Software",
  "Foods",
  "Learning",
] as const;

/** A company name from two indices (the domain makes it unique, not the name). */
export function companyName(a: number, b: number): string {
  return `${COMPANY_FIRST[a % COMPANY_FIRST.length]} ${COMPANY_SECOND[b % COMPANY_SECOND.length]}`;
}
export const COMPANY_PARTS = [COMPANY_FIRST.length, COMPANY_SECOND.length] as const;

/** Where a lead sits: a country (ISO 3166 alpha-2) and an IANA time zone there. */
export const PLACES = [
  ["US", "America/New_York"],
  ["US", "America/Chicago"],
  ["US", "America/Los_Angeles"],
  ["CA", "America/Toronto"],
  ["GB", "Europe/London"],
  ["DE", "Europe/Berlin"],
  ["FR", "Europe/Paris"],
  ["NL", "Europe/Amsterdam"],
  ["AU", "Australia/Sydney"],
  ["SG", "Asia/Singapore"],
] as const;

/** ASCII letters for an address: "Müller" → "muller". */
export function asciiSlug(s: string): string {
  return s
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/[^A-Za-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .toLowerCase();
}
