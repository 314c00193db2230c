// Requests and events of this domain are added here; core/api/contract.ts merges every domain.
export const requests = {}

export const events = {}
