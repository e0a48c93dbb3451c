//! The rendered tenants, and the `/metrics` body assembled from them by copying bytes.
//!
//! Pollers [`publish`](RenderCache::publish) a tenant's render whenever its snapshots change;
//! a scrape asks for the [`body`](RenderCache::body). The text format wants every family in one
//! block, so the body goes family by family (sorted by name, as the `prometheus` registry sorts
//! them): the family's `# HELP` / `# TYPE` lines, then each tenant's lines of it, tenants sorted
//! by id. The few families not rendered per tenant (build info, the Graph instruments, process
//! metrics) are encoded at each scrape and merged in by name.
//!
//! The order of the blocks (a *plan*) is worked out once per change and shared by concurrent
//! scrapes. A plan is redone when a tenant is published or removed, or when a tenant's render
//! stops describing the present: that tenant is rendered again first, so health is never stale
//! in meaning. Assembling is CPU work: callers run it off the async workers.

use super::catalog::{self, FamilyDef, Origin};
use super::encode;
use super::gzip::{Crc32, Deflater, Member, Segment};
use super::render::TenantRender;
use bytes::{BufMut, Bytes, BytesMut};
use chrono::{DateTime, Utc};
use prometheus::proto::MetricFamily;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

/// The latest render of every tenant.
#[derive(Debug)]
pub struct RenderCache {
    tenants: RwLock<BTreeMap<String, Arc<TenantRender>>>,
    /// Bumped (under the write lock) by every change of `tenants`.
    generation: AtomicU64,
    /// The last plan; the lock also makes concurrent scrapes wait for one plan, not make many.
    plan: Mutex<Option<Arc<Plan>>>,
    headers: BTreeMap<&'static str, Header>,
}

/// A family's `# HELP` / `# TYPE` lines, in both encodings.
#[derive(Debug)]
struct Header {
    text: Bytes,
    gzip: Segment,
}

/// Which tenants' chunks make up each family, at one generation.
#[derive(Debug)]
struct Plan {
    generation: u64,
    valid_until: Option<DateTime<Utc>>,
    tenants: Vec<Arc<TenantRender>>,
    /// Sorted by name.
    families: Vec<Block>,
    text_len: usize,
    gzip_len: usize,
}

/// One family's block: its header, then chunks as (tenant, family) indexes into the plan.
#[derive(Debug)]
struct Block {
    family: &'static FamilyDef,
    chunks: Vec<(usize, usize)>,
    /// The CRC of the whole block's text, header included.
    crc: Crc32,
    /// The whole block, header and chunks, made once per plan by the first scrape that needs
    /// it: later scrapes of the same plan copy one piece per family instead of one per tenant
    /// and family.
    text: OnceLock<Bytes>,
    gzip: OnceLock<Bytes>,
}

impl Default for RenderCache {
    fn default() -> Self {
        Self::new()
    }
}

impl RenderCache {
    /// An empty cache.
    pub fn new() -> Self {
        let mut deflater = Deflater::new();
        let headers = catalog::ALL
            .iter()
            .filter(|f| f.origin == Origin::Snapshot)
            .map(|f| {
                let text = encode::header(f);
                let gzip = deflater.segment(text.as_bytes());
                (
                    f.name,
                    Header {
                        text: Bytes::from(text),
                        gzip,
                    },
                )
            })
            .collect();
        Self {
            tenants: RwLock::default(),
            generation: AtomicU64::new(0),
            plan: Mutex::new(None),
            headers,
        }
    }

    /// Replaces a tenant's render (or adds the tenant).
    pub fn publish(&self, render: TenantRender) {
        let mut tenants = write(&self.tenants);
        tenants.insert(render.tenant_id().to_string(), Arc::new(render));
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Removes a tenant and its series.
    pub fn remove(&self, tenant_id: &str) {
        let mut tenants = write(&self.tenants);
        if tenants.remove(tenant_id).is_some() {
            self.generation.fetch_add(1, Ordering::Release);
        }
    }

    /// The tenants' current renders, sorted by tenant id.
    pub fn renders(&self) -> Vec<Arc<TenantRender>> {
        read(&self.tenants).values().cloned().collect()
    }

    /// The `/metrics` body at `now`: `globals` (families encoded per scrape, such as the
    /// `prometheus` registry's) merged by name with every tenant's rendered families; gzip
    /// (one member) or plain text.
    pub fn body(&self, globals: &[MetricFamily], gzip: bool, now: DateTime<Utc>) -> Bytes {
        let plan = self.plan(now);
        let mut globals: Vec<&MetricFamily> = globals.iter().collect();
        globals.sort_by(|a, b| a.name().cmp(b.name()));
        if gzip {
            self.gzip_body(&plan, &globals)
        } else {
            self.text_body(&plan, &globals)
        }
    }

    fn text_body(&self, plan: &Plan, globals: &[&MetricFamily]) -> Bytes {
        let mut global_text = String::new();
        let mut out = BytesMut::new();
        let mut put = |piece: Piece<'_>, out: &mut BytesMut| match piece {
            Piece::Global(mf) => {
                global_text.clear();
                encode::append(std::slice::from_ref(mf), &mut global_text);
                out.put_slice(global_text.as_bytes());
            }
            Piece::GlobalLines(mf) => out.put_slice(encode::series_lines(mf).as_bytes()),
            Piece::Block(header, block) => out.put_slice(block.text.get_or_init(|| {
                let mut text = BytesMut::from(&header.text[..]);
                for &(t, f) in &block.chunks {
                    text.put_slice(&plan.tenants[t].families()[f].text);
                }
                text.freeze()
            })),
        };
        out.reserve(plan.text_len + 64 * 1024);
        self.merge(plan, globals, |piece| put(piece, &mut out));
        out.freeze()
    }

    fn gzip_body(&self, plan: &Plan, globals: &[&MetricFamily]) -> Bytes {
        let mut member = Member::with_capacity(plan.gzip_len + 16 * 1024);
        let mut deflater = None::<Deflater>;
        // Consecutive global families are compressed together, once per scrape.
        let mut pending = String::new();
        let flush = |pending: &mut String, member: &mut Member, deflater: &mut Option<Deflater>| {
            if !pending.is_empty() {
                let d = deflater.get_or_insert_with(Deflater::new);
                member.push(&d.segment(pending.as_bytes()));
                pending.clear();
            }
        };
        self.merge(plan, globals, |piece| match piece {
            Piece::Global(mf) => encode::append(std::slice::from_ref(mf), &mut pending),
            Piece::GlobalLines(mf) => pending.push_str(&encode::series_lines(mf)),
            Piece::Block(header, block) => {
                flush(&mut pending, &mut member, &mut deflater);
                member.put_deflate(block.gzip.get_or_init(|| {
                    let mut deflate = BytesMut::from(&header.gzip.deflate[..]);
                    for &(t, f) in &block.chunks {
                        deflate.put_slice(&plan.tenants[t].families()[f].gzip.deflate);
                    }
                    deflate.freeze()
                }));
                member.put_crc(block.crc);
            }
        });
        flush(&mut pending, &mut member, &mut deflater);
        member.finish()
    }

    /// Walks the body in order. A global family whose name a rendered family also has (never
    /// the case in the catalog) goes at the end of that block, so that the family stays one
    /// block.
    fn merge<'a>(
        &'a self,
        plan: &'a Plan,
        globals: &[&'a MetricFamily],
        mut visit: impl FnMut(Piece<'a>),
    ) {
        let mut globals = globals.iter().copied().peekable();
        for block in &plan.families {
            while let Some(g) = globals.next_if(|g| g.name() < block.family.name) {
                visit(Piece::Global(g));
            }
            let Some(header) = self.headers.get(block.family.name) else {
                continue;
            };
            visit(Piece::Block(header, block));
            // After the block: CRCs combine in text order.
            while let Some(g) = globals.next_if(|g| g.name() == block.family.name) {
                visit(Piece::GlobalLines(g));
            }
        }
        for g in globals {
            visit(Piece::Global(g));
        }
    }

    /// The plan for `now`: the cached one while nothing changed and every render still holds,
    /// else a new one, after rendering stale tenants again.
    fn plan(&self, now: DateTime<Utc>) -> Arc<Plan> {
        let mut cached = match self.plan.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(plan) = cached.as_ref() {
            let current = plan.generation == self.generation.load(Ordering::Acquire);
            if current && plan.valid_until.is_none_or(|t| now < t) {
                return Arc::clone(plan);
            }
        }
        let stale: Vec<Arc<TenantRender>> = read(&self.tenants)
            .values()
            .filter(|r| r.is_stale(now))
            .cloned()
            .collect();
        for old in stale {
            let fresh = Arc::new(old.render_again(now));
            let mut tenants = write(&self.tenants);
            // A poller may have published a newer render meanwhile: keep that one.
            if let Some(entry) = tenants.get_mut(old.tenant_id()) {
                if Arc::ptr_eq(entry, &old) {
                    *entry = fresh;
                    self.generation.fetch_add(1, Ordering::Release);
                }
            }
        }
        let (generation, tenants) = {
            let map = read(&self.tenants);
            (
                self.generation.load(Ordering::Acquire),
                map.values().cloned().collect::<Vec<_>>(),
            )
        };
        let plan = Arc::new(self.make_plan(generation, tenants));
        *cached = Some(Arc::clone(&plan));
        plan
    }

    fn make_plan(&self, generation: u64, tenants: Vec<Arc<TenantRender>>) -> Plan {
        let mut blocks: BTreeMap<&'static str, Block> = BTreeMap::new();
        let mut text_len = 0;
        let mut gzip_len = 0;
        for (t, render) in tenants.iter().enumerate() {
            for (f, chunk) in render.families().iter().enumerate() {
                let block = blocks.entry(chunk.family.name).or_insert_with(|| {
                    let header = self.headers.get(chunk.family.name);
                    if let Some(h) = header {
                        text_len += h.text.len();
                        gzip_len += h.gzip.deflate.len();
                    }
                    Block {
                        family: chunk.family,
                        chunks: Vec::new(),
                        crc: header.map_or_else(Crc32::default, |h| h.gzip.crc),
                        text: OnceLock::new(),
                        gzip: OnceLock::new(),
                    }
                });
                block.chunks.push((t, f));
                block.crc = block.crc.then(chunk.gzip.crc);
                text_len += chunk.text.len();
                gzip_len += chunk.gzip.deflate.len();
            }
        }
        Plan {
            generation,
            valid_until: tenants.iter().filter_map(|r| r.valid_until()).min(),
            tenants,
            families: blocks.into_values().collect(),
            text_len,
            gzip_len,
        }
    }
}

/// One piece of the body, in order.
enum Piece<'a> {
    /// A family encoded at this scrape, header included.
    Global(&'a MetricFamily),
    /// The series of a global family that shares its name with a rendered family.
    GlobalLines(&'a MetricFamily),
    /// A rendered family's whole block: its header, then every tenant's chunk of it.
    Block(&'a Header, &'a Block),
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    // Writers only insert or remove an Arc; a panic elsewhere cannot leave the map half-done.
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
