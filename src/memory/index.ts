/**
 * Agent memory: what an agent keeps across runs through the built-in memory connection (its calls
 * pass the gate like any tool's), what people see, edit, pin and delete of it, and its deletion
 * on request. Pinned entries are given to the agent's runs.
 */
export {
  type AgentMemoryDeleted,
  deleteAgentMemory,
  deleteMemoryAbout,
  memoryEntriesAbout,
} from './deletion.ts';
export {
  deleteMemoryEntry,
  listMemory,
  MEMORY_LIMITS,
  type MemoryEntry,
  updateMemory,
} from './entries.ts';
export { pinnedMemory, withPinnedMemory } from './recall.ts';
export {
  type BuiltinCaller,
  CALLER_META,
  MEMORY_SERVER,
  MEMORY_TOOLS,
  openMemorySession,
} from './tool.ts';
