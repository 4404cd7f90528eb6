// The template renderer: facts fill slots, missing facts read naturally, and a slot
// naming an inherited property cannot break rendering (operator-edited templates).
import { describe, expect, it } from "vitest";
import { DEFAULT_PLAYBOOK, render } from "./playbook.ts";

describe("render", () => {
  it("fills slots from the facts and a neutral phrase for a missing or blank one", () => {
    expect(render("Hi {{firstName}} at {{company}}", { firstName: "Ada", company: " " })).toBe(
      "Hi Ada at your team",
    );
    expect(render("{{unknownSlot}}!", {})).toBe("!");
  });

  it("ignores inherited properties: {{toString}}, {{constructor}}, {{__proto__}} render nothing", () => {
    const template = "Hi {{firstName}} {{toString}}{{constructor}}{{__proto__}}{{hasOwnProperty}}";
    expect(render(template, { firstName: "Ada" })).toBe("Hi Ada ");
  });

  it("uses an own fact even when its name shadows an inherited property", () => {
    const facts = JSON.parse('{"toString": "shadowed", "firstName": "Ada"}');
    expect(render("{{firstName}}: {{toString}}", facts)).toBe("Ada: shadowed");
  });

  it("renders every default variant without a slot left or an 'undefined'", () => {
    for (const v of DEFAULT_PLAYBOOK)
      expect(render(v.subjectTemplate + v.bodyTemplate, {})).not.toMatch(/\{\{|undefined/);
  });
});
