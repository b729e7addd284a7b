/** The high-risk tool rule: annotations when present, else the words of name and description. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { destructiveReason, nameWords } from './destructive.ts';

test('names are split into words in every case style, and a destructive verb among them makes the tool high-risk', () => {
  assert.deepEqual(nameWords('deleteFileNow'), ['delete', 'file', 'now']);
  assert.deepEqual(nameWords('github.delete-repo_v2'), ['github', 'delete', 'repo', 'v2']);
  assert.equal(destructiveReason({ name: 'delete_file', description: '' }), 'its name says "delete"');
  assert.equal(
    destructiveReason({ name: 'refund', description: 'Refund an order' }),
    'its name says "refund"',
  );
  assert.equal(destructiveReason({ name: 'forcePush', description: '' }), 'its name says "force"');
  // A verb inside another word is not the verb: "deleted", "removal", "cancellation", "payload".
  assert.equal(destructiveReason({ name: 'list_deleted_items', description: 'List items in the bin' }), null);
  assert.equal(destructiveReason({ name: 'get_payload', description: 'Get a payload' }), null);
});

test('a description that starts with a destructive verb, or says it is permanent, makes the tool high-risk', () => {
  assert.equal(
    destructiveReason({ name: 'shelf_tool', description: 'Removes every item of a shelf' }),
    'its description starts with "Removes"',
  );
  assert.equal(
    destructiveReason({
      name: 'write_file',
      description: 'Create a new file or completely overwrite an existing file',
    }),
    'its description says "overwrite"',
  );
  assert.equal(
    destructiveReason({ name: 'archive', description: 'Archives the project. This cannot be undone.' }),
    'its description says "cannot be undone"',
  );
  assert.equal(destructiveReason({ name: 'lookup_order', description: 'Look an order up by id' }), null);
  assert.equal(destructiveReason({ name: 'echo', description: 'Echoes back the input' }), null);
});

test('annotations, when present, decide as the MCP specification reads them', () => {
  const name = 'delete_file';
  assert.equal(destructiveReason({ name, description: '', annotations: { readOnlyHint: true } }), null);
  assert.equal(destructiveReason({ name, description: '', annotations: { destructiveHint: false } }), null);
  assert.equal(
    destructiveReason({ name: 'sync', description: 'Sync', annotations: {} }),
    'the server annotates it destructive',
  );
  assert.equal(
    destructiveReason({
      name: 'sync',
      description: 'Sync',
      annotations: { readOnlyHint: false, destructiveHint: true },
    }),
    'the server annotates it destructive',
  );
});
