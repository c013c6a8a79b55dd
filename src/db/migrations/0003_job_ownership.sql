ALTER TABLE "import_jobs" ADD COLUMN "owner" text;--> statement-breakpoint
ALTER TABLE "import_jobs" ADD COLUMN "heartbeat_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "import_jobs_unfinished_owner_idx" ON "import_jobs" USING btree ("owner") WHERE "import_jobs"."status" in ('queued', 'running');