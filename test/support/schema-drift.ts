import { get_dmmf } from '@prisma/prisma-schema-wasm';
import type { SqlSession } from '../../src/db/database.js';

/**
 * Compares what `schema.prisma` declares with what a migrated database holds:
 * tables, columns (type, nullability, database default), primary keys,
 * unique constraints, indexes, foreign keys and enums. Returns one line per
 * difference; an empty list means the SQL migrations and the schema agree.
 * A partitioned table counts as its parent: its partitions, and the indexes
 * and foreign keys PostgreSQL copies onto them, are not schema of their own.
 */
export async function schemaDrift(prismaSchema: string, session: SqlSession): Promise<string[]> {
  const expected = describePrismaSchema(prismaSchema);
  const actual = await describeDatabase(session);
  const differences: string[] = [];
  for (const [kind, want] of Object.entries(expected) as Array<[keyof SchemaShape, Map<string, string>]>) {
    const have = actual[kind];
    for (const [name, shape] of want) {
      const found = have.get(name);
      if (found === undefined) differences.push(`${kind} ${name}: in schema.prisma, missing from the database`);
      else if (found !== shape) differences.push(`${kind} ${name}: schema.prisma has ${shape}, the database has ${found}`);
    }
    for (const name of have.keys()) {
      if (!want.has(name)) differences.push(`${kind} ${name}: in the database, missing from schema.prisma`);
    }
  }
  return differences;
}

/** Each kind of object, by name, with a canonical description to compare. */
interface SchemaShape {
  tables: Map<string, string>;
  columns: Map<string, string>;
  indexes: Map<string, string>;
  foreignKeys: Map<string, string>;
  enums: Map<string, string>;
}

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'enum' | 'object' | 'unsupported';
  type: string;
  isRequired: boolean;
  isList: boolean;
  nativeType: [string, string[]] | null;
  hasDefaultValue: boolean;
  default?: unknown;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}
interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  dbName?: string | null;
  name?: string | null;
  fields: Array<{ name: string }>;
}
interface Dmmf {
  datamodel: {
    models: DmmfModel[];
    enums: Array<{ name: string; dbName: string | null; values: Array<{ name: string; dbName: string | null }> }>;
    indexes: DmmfIndex[];
  };
}

function describePrismaSchema(prismaSchema: string): SchemaShape {
  const { datamodel } = JSON.parse(
    get_dmmf(JSON.stringify({ prismaSchema: [['schema.prisma', prismaSchema]] })),
  ) as Dmmf;
  const shape = emptyShape();
  const enumDbName = new Map(datamodel.enums.map((e) => [e.name, e.dbName ?? e.name]));
  const models = new Map(datamodel.models.map((model) => [model.name, model]));
  const tableOf = (model: DmmfModel) => model.dbName ?? model.name;
  const columnOf = (model: DmmfModel, fieldName: string) => {
    const field = model.fields.find((f) => f.name === fieldName)!;
    return field.dbName ?? field.name;
  };

  for (const e of datamodel.enums) {
    shape.enums.set(e.dbName ?? e.name, e.values.map((v) => v.dbName ?? v.name).join(','));
  }
  for (const model of datamodel.models) {
    const table = tableOf(model);
    shape.tables.set(table, 'table');
    for (const field of model.fields) {
      if (field.kind === 'scalar' || field.kind === 'enum') {
        const type = field.kind === 'enum' ? enumDbName.get(field.type)! : columnType(field);
        shape.columns.set(
          `${table}.${field.dbName ?? field.name}`,
          describeColumn(type + (field.isList ? '[]' : ''), !field.isRequired, hasDatabaseDefault(field)),
        );
      }
      if (field.kind === 'object' && field.relationFromFields?.length) {
        const target = models.get(field.type)!;
        const columns = field.relationFromFields.map((name) => columnOf(model, name));
        // Prisma's referential action defaults: Restrict (SetNull when optional) on delete, Cascade on update.
        const onDelete = field.relationOnDelete ?? (field.isRequired ? 'Restrict' : 'SetNull');
        const onUpdate = field.relationOnUpdate ?? 'Cascade';
        shape.foreignKeys.set(
          `${table}_${columns.join('_')}_fkey`,
          describeForeignKey(
            table,
            columns,
            tableOf(target),
            field.relationToFields!.map((name) => columnOf(target, name)),
            onDelete,
            onUpdate,
          ),
        );
      }
    }
  }
  for (const index of datamodel.indexes) {
    if (index.type === 'fulltext') continue;
    const model = models.get(index.model)!;
    const table = tableOf(model);
    const columns = index.fields.map((f) => columnOf(model, f.name));
    const suffix = { id: 'pkey', unique: 'key', normal: 'idx' }[index.type];
    const name = index.dbName ?? (index.type === 'id' ? `${table}_pkey` : `${table}_${columns.join('_')}_${suffix}`);
    shape.indexes.set(name, describeIndex(table, index.type, columns));
  }
  return shape;
}

/** The PostgreSQL type Prisma creates for a scalar field, as `format_type` spells it. */
function columnType(field: DmmfField): string {
  const [native, args = []] = field.nativeType ?? [];
  if (native) {
    const known: Record<string, string> = {
      Timestamptz: `timestamp(${args[0] ?? 6}) with time zone`,
      Timestamp: `timestamp(${args[0] ?? 6}) without time zone`,
      Decimal: `numeric(${args.join(',')})`,
      VarChar: `character varying(${args[0]})`,
      Text: 'text',
      Uuid: 'uuid',
      Date: 'date',
      SmallInt: 'smallint',
      Integer: 'integer',
      BigInt: 'bigint',
      DoublePrecision: 'double precision',
      Real: 'real',
      JsonB: 'jsonb',
      Json: 'json',
    };
    if (!(native in known)) throw new Error(`schemaDrift: native type @db.${native} is not mapped yet`);
    return known[native]!;
  }
  const defaults: Record<string, string> = {
    String: 'text',
    Int: 'integer',
    BigInt: 'bigint',
    Float: 'double precision',
    Decimal: 'numeric(65,30)',
    Boolean: 'boolean',
    DateTime: 'timestamp(3) without time zone',
    Json: 'jsonb',
    Bytes: 'bytea',
  };
  return defaults[field.type]!;
}

/** Defaults Prisma puts in the database, as opposed to ones its client fills in (uuid(), cuid()...). */
function hasDatabaseDefault(field: DmmfField): boolean {
  if (!field.hasDefaultValue) return false;
  const value = field.default as { name?: string } | undefined;
  if (value && typeof value === 'object' && 'name' in value) {
    return ['autoincrement', 'now', 'dbgenerated', 'sequence'].includes(value.name!);
  }
  return true;
}

async function describeDatabase(session: SqlSession): Promise<SchemaShape> {
  const shape = emptyShape();
  const ignore = ['_prisma_migrations'];
  const tables = await session.query<{ table: string }>(
    `SELECT c.relname::text AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition`,
  );
  for (const { table } of tables) if (!ignore.includes(table)) shape.tables.set(table, 'table');

  const columns = await session.query<{ table: string; column: string; type: string; nullable: boolean; hasDefault: boolean }>(
    `SELECT c.relname::text AS table, a.attname::text AS column, format_type(a.atttypid, a.atttypmod) AS type,
            NOT a.attnotnull AS nullable, a.atthasdef AS "hasDefault"
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND a.attnum > 0 AND NOT a.attisdropped`,
  );
  for (const c of columns) {
    if (ignore.includes(c.table)) continue;
    shape.columns.set(`${c.table}.${c.column}`, describeColumn(c.type.replaceAll('"', ''), c.nullable, c.hasDefault));
  }

  const indexes = await session.query<{ table: string; name: string; primary: boolean; unique: boolean; columns: string[] }>(
    `SELECT t.relname::text AS table, i.relname::text AS name, ix.indisprimary AS primary, ix.indisunique AS unique,
            array_agg(a.attname::text ORDER BY k.ord) AS columns
     FROM pg_index ix
     JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_class i ON i.oid = ix.indexrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace
     CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
     WHERE n.nspname = 'public' AND NOT t.relispartition
     GROUP BY 1, 2, 3, 4`,
  );
  for (const index of indexes) {
    if (ignore.includes(index.table)) continue;
    const type = index.primary ? 'id' : index.unique ? 'unique' : 'normal';
    shape.indexes.set(index.name, describeIndex(index.table, type, index.columns));
  }

  const foreignKeys = await session.query<{
    name: string;
    table: string;
    columns: string[];
    target: string;
    targetColumns: string[];
    onDelete: string;
    onUpdate: string;
  }>(
    `SELECT con.conname::text AS name, t.relname::text AS table, f.relname::text AS target,
            (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns,
            (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS "targetColumns",
            con.confdeltype::text AS "onDelete", con.confupdtype::text AS "onUpdate"
     FROM pg_constraint con
     JOIN pg_class t ON t.oid = con.conrelid JOIN pg_class f ON f.oid = con.confrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE n.nspname = 'public' AND con.contype = 'f' AND NOT t.relispartition`,
  );
  const action: Record<string, string> = { a: 'NoAction', r: 'Restrict', c: 'Cascade', n: 'SetNull', d: 'SetDefault' };
  for (const fk of foreignKeys) {
    shape.foreignKeys.set(
      fk.name,
      describeForeignKey(fk.table, fk.columns, fk.target, fk.targetColumns, action[fk.onDelete]!, action[fk.onUpdate]!),
    );
  }

  const enums = await session.query<{ name: string; values: string[] }>(
    `SELECT t.typname::text AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values
     FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname = 'public' GROUP BY 1`,
  );
  for (const e of enums) shape.enums.set(e.name, e.values.join(','));
  return shape;
}

function emptyShape(): SchemaShape {
  return { tables: new Map(), columns: new Map(), indexes: new Map(), foreignKeys: new Map(), enums: new Map() };
}

function describeColumn(type: string, nullable: boolean, hasDefault: boolean): string {
  return `${type} ${nullable ? 'NULL' : 'NOT NULL'}${hasDefault ? ' with default' : ''}`;
}

function describeIndex(table: string, type: string, columns: string[]): string {
  const kind = { id: 'primary key', unique: 'unique index', normal: 'index' }[type];
  return `${kind} on ${table}(${columns.join(', ')})`;
}

function describeForeignKey(
  table: string,
  columns: string[],
  target: string,
  targetColumns: string[],
  onDelete: string,
  onUpdate: string,
): string {
  return `${table}(${columns.join(', ')}) -> ${target}(${targetColumns.join(', ')}) on delete ${onDelete} on update ${onUpdate}`;
}
