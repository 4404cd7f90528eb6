/** The write-back's view of `@pw/lightfield`: a contact's account (cached), notes and tasks. */
import { type LightfieldClient, relatedIds } from "@pw/lightfield";
import type { LightfieldWriter } from "./writeback.ts";

export function lightfieldWriter(client: LightfieldClient, cacheSize = 10_000): LightfieldWriter {
  // A contact's account rarely changes; one read per contact per process is plenty.
  const accounts = new Map<string, string | undefined>();
  return {
    async accountOf(contactId) {
      if (accounts.has(contactId)) return accounts.get(contactId);
      const contact = await client.get("contacts", contactId);
      const account = relatedIds(contact, "$account")[0];
      if (accounts.size >= cacheSize) accounts.delete(accounts.keys().next().value!);
      accounts.set(contactId, account);
      return account;
    },
    createNote: (note, options) => client.createNote(note, options),
    createTask: (task, options) => client.createTask(task, options),
  };
}
