/**
 * The compliance center: evidence collections and their hashed evidence records, control results
 * (history kept, never updated), access reviews with their lines and comments, the vendor
 * register's assessments, the incident register, exercises (tabletops and kill-switch drills),
 * and the customer's own documents (files under $PADDOCK_HOME/documents, hashed here).
 */
import type { ColumnDefinitionBuilder, Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

const org = (c: ColumnDefinitionBuilder) => c.notNull().references('orgs.id').onDelete('cascade');

export function compliance(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('compliance_collections')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', org)
        // `schedule` (the daily job) or `request` (someone asked).
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('actor_type', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('period_from', 'text', (c) => c.notNull())
        .addColumn('period_to', 'text', (c) => c.notNull())
        // The log as collected: entries [range_from, range_to) under the checkpoint of tree_size.
        .addColumn('tree_size', 'integer', (c) => c.notNull())
        .addColumn('checkpoint', 'text', (c) => c.notNull())
        .addColumn('range_from', 'integer', (c) => c.notNull())
        .addColumn('range_to', 'integer', (c) => c.notNull())
        // The collection this one continues ('' for an org's first): one chain per org, no forks,
        // so two collections at once cannot both claim the same entries.
        .addColumn('previous_id', 'text', (c) => c.notNull())
        .addUniqueConstraint('compliance_collections_chain', ['org_id', 'previous_id'])
        .execute();
      await db.schema
        .createIndex('compliance_collections_org')
        .on('compliance_collections')
        .columns(['org_id', 'started_at'])
        .execute();

      await db.schema
        .createTable('compliance_evidence')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', org)
        .addColumn('collection_id', 'text')
        .addColumn('control_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('collected_at', 'text', (c) => c.notNull())
        .addColumn('period_from', 'text', (c) => c.notNull())
        .addColumn('period_to', 'text', (c) => c.notNull())
        // Canonical JSON (RFC 8785), exactly as hashed.
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('figure', 'text')
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('tree_size', 'integer')
        .addColumn('checkpoint', 'text')
        .addColumn('range_from', 'integer')
        .addColumn('range_to', 'integer')
        .execute();
      await db.schema
        .createIndex('compliance_evidence_control')
        .on('compliance_evidence')
        .columns(['org_id', 'control_id', 'collected_at'])
        .execute();
      await db.schema
        .createIndex('compliance_evidence_time')
        .on('compliance_evidence')
        .columns(['org_id', 'collected_at'])
        .execute();

      await db.schema
        .createTable('compliance_results')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', org)
        .addColumn('collection_id', 'text', (c) => c.notNull())
        .addColumn('control_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('evaluated_at', 'text', (c) => c.notNull())
        // JSON array of evidence ids.
        .addColumn('evidence', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('compliance_results_control')
        .on('compliance_results')
        .columns(['org_id', 'control_id', 'evaluated_at'])
        .execute();

      await db.schema
        .createTable('compliance_reviews')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', org)
        // `agents` (grants against use) or `people` (roles against sign-ins).
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('period_from', 'text', (c) => c.notNull())
        .addColumn('period_to', 'text', (c) => c.notNull())
        .addColumn('tree_size', 'integer', (c) => c.notNull())
        .addColumn('checkpoint', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('signed_off_by', 'text')
        .addColumn('signed_off_at', 'text')
        .addColumn('evidence_id', 'text')
        .execute();
      await db.schema
        .createIndex('compliance_reviews_org')
        .on('compliance_reviews')
        .columns(['org_id', 'created_at'])
        .execute();

      await db.schema
        .createTable('compliance_review_lines')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', org)
        .addColumn('review_id', 'text', (c) =>
          c.notNull().references('compliance_reviews.id').onDelete('cascade'),
        )
        .addColumn('position', 'integer', (c) => c.notNull())
        // agent / person, and the grant or membership the line is about.
        .addColumn('subject_type', 'text', (c) => c.notNull())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('item_type', 'text', (c) => c.notNull())
        .addColumn('item_id', 'text', (c) => c.notNull())
        // JSON: what the reviewer sees (the tool and its use, the role and its last sign-in).
        .addColumn('facts', 'text', (c) => c.notNull())
        .addColumn('finding', 'text', (c) => c.notNull())
        .addColumn('decision', 'text')
        .addColumn('decided_by', 'text')
        .addColumn('decided_at', 'text')
        .addColumn('note', 'text')
        .execute();
      await db.schema
        .createIndex('compliance_review_lines_review')
        .on('compliance_review_lines')
        .columns(['org_id', 'review_id', 'position'])
        .execute();

      await db.schema
        .createTable('compliance_review_comments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', org)
        .addColumn('review_id', 'text', (c) =>
          c.notNull().references('compliance_reviews.id').onDelete('cascade'),
        )
        .addColumn('line_id', 'text')
        .addColumn('author_id', 'text', (c) => c.notNull())
        .addColumn('author_role', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('compliance_review_comments_review')
        .on('compliance_review_comments')
        .columns(['org_id', 'review_id', 'created_at'])
        .execute();

      await db.schema
        .createTable('compliance_vendors')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', org)
        // model_provider, mcp_package, mcp_command, remote_host, other; name as the register shows it.
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('data_handling', 'text', (c) => c.notNull())
        .addColumn('soc2_report_date', 'text')
        .addColumn('reviewed_at', 'text')
        .addColumn('next_review_at', 'text')
        .addColumn('notes', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('compliance_vendors_name', ['org_id', 'kind', 'name'])
        .execute();

      await db.schema
        .createTable('compliance_incidents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', org)
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('detected_at', 'text', (c) => c.notNull())
        .addColumn('resolved_at', 'text')
        // JSON arrays: [{time, note, by}] and [{id, action, owner, done}].
        .addColumn('timeline', 'text', (c) => c.notNull())
        .addColumn('actions', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('compliance_incidents_org')
        .on('compliance_incidents')
        .columns(['org_id', 'detected_at'])
        .execute();

      await db.schema
        .createTable('compliance_exercises')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', org)
        // tabletop (recorded by people) or kill_switch_drill (run and measured by Paddock).
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('held_at', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        // JSON: participants, scenario, findings (tabletop); agent, log indexes, time to halt (drill).
        .addColumn('facts', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('compliance_exercises_org')
        .on('compliance_exercises')
        .columns(['org_id', 'held_at'])
        .execute();

      await db.schema
        .createTable('compliance_documents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', org)
        .addColumn('criterion', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('uploaded_by', 'text', (c) => c.notNull())
        .addColumn('uploaded_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('compliance_documents_org')
        .on('compliance_documents')
        .columns(['org_id', 'criterion'])
        .execute();
    },
  };
}
