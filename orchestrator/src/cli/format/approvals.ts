/** `fleet approvals approve|reject`: the decision taken. */
export function formatApprovalDecided(approvalId: string, decision: 'approve' | 'reject'): string {
  return `${approvalId}: ${decision === 'approve' ? 'approved' : 'rejected'}.`;
}
