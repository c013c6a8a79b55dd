ALTER TABLE "runs" ADD COLUMN "owner" text;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "heartbeat_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "runs_unfinished_owner_idx" ON "runs" USING btree ("owner") WHERE "runs"."status" in ('queued', 'running');