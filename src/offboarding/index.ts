/** Offboarding: removing a person from an org ends all their access, and hands over what they owned. */
export * from './data-deletion.ts';
export * from './removal.ts';
