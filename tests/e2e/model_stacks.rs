//! The lifecycle model with two stacks on one sync profile (co-ownership).
//!
//! proptest generates sequences of what CloudFormation and people do to two stacks
//! that reconcile the same profile ([`Step`]): deployments of overlapping configs
//! (either `OnDelete`, `authoritative` on either, a replacement that moves a stack to
//! a second profile and back), Updates rolled back because another
//! resource failed, Updates that fail in the middle of their apply (a filter the
//! service refuses) and are rolled back, the stacks' Deletes in any order (a deleted
//! stack may be created again), one stack's ownership record deleted by hand, console
//! edits and transient faults. Both stacks exist in moto's CloudFormation while they
//! live, so each run finds the other alive (or gone). After every request the test
//! checks, against a shadow model built from what it observed, the sentences of
//! README's "Several stacks on one sync profile":
//!
//! - every delivery gets exactly one answer;
//! - a name that a live stack lists (its last successful config) is never removed by
//!   a request of the other stack;
//! - after a successful Create or Update, every name the config lists is in the scope;
//! - a rollback Update, after an Update that failed or succeeded, succeeds;
//! - once both stacks are deleted with `OnDelete: remove`, nothing either created
//!   remains (unless a record was deleted by hand: then what it knew is forgotten).
//!
//! The in-process driver shares the lifecycle model's (one sequence at a time);
//! `SYNCSCOPE_MODEL_CASES` (default 300) and `SYNCSCOPE_MODEL_BINARY_CASES` (default
//! 20) scale the campaigns as they do the one-stack model's.

use std::collections::HashSet;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use syncscope::ssm::ParameterStore;
use syncscope_core::synth::ParameterNames;

use crate::helpers::*;
use crate::model::{Binary, Driver, Engine, Located, NAMES, cases, ids, in_process, seed};

/// One deployment's settings. Its `Debug` is Rust: a shrunk failure pastes as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cfg {
    /// Which of [`NAMES`] the config lists (bit i: `G-i`; never empty).
    pub groups: u8,
    /// `Mode: authoritative`.
    pub authoritative: bool,
    /// `OnDelete: remove`.
    pub remove: bool,
    /// A deletion guard wide open (else the default 10 / 25 %).
    pub open_guard: bool,
    /// `SyncProfileName: ProfileB` (a replacement when the stack was on the other).
    pub profile_b: bool,
}

/// What CloudFormation or a person does next (`stack` is 0 or 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Create (no stack yet) or Update to this config.
    Deploy(u8, Cfg),
    /// An Update that succeeds while another resource of the stack fails: rolled back.
    DeployFailingElsewhere(u8, Cfg),
    /// An Update during which the service refuses `G-n` (the apply fails part-way):
    /// rolled back once the fault is gone.
    DeployFailingMidway(u8, Cfg, u8),
    /// The stack's Delete (CloudFormation retries until it succeeds).
    Delete(u8),
    /// A person deletes the stack's ownership record in SSM.
    RecordDeletedByHand(u8),
    /// A console edit: add `C-n` (or `G-n`), or delete the n-th filter.
    Console(bool, bool, u8),
    /// 30 % of calls are applied and then answered 500 until the next faults step
    /// (`false`: none).
    Faults(bool, u64),
}

fn cfg() -> impl Strategy<Value = Cfg> {
    (
        1u8..64,
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.7),
        prop::bool::weighted(0.6),
        prop::bool::weighted(0.15),
    )
        .prop_map(
            |(groups, authoritative, remove, open_guard, profile_b)| Cfg {
                groups,
                authoritative,
                remove,
                open_guard,
                profile_b,
            },
        )
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0u8..2, cfg()).prop_map(|(s, c)| Step::Deploy(s, c)),
        2 => (0u8..2, cfg()).prop_map(|(s, c)| Step::DeployFailingElsewhere(s, c)),
        2 => (0u8..2, cfg(), 0u8..6).prop_map(|(s, c, n)| Step::DeployFailingMidway(s, c, n)),
        2 => (0u8..2).prop_map(Step::Delete),
        1 => (0u8..2).prop_map(Step::RecordDeletedByHand),
        2 => (any::<bool>(), any::<bool>(), 0u8..6).prop_map(|(a, c, n)| Step::Console(a, c, n)),
        1 => (any::<bool>(), any::<u64>()).prop_map(|(on, seed)| Step::Faults(on, seed)),
    ]
}

/// A sequence: at least 8 steps.
fn sequence() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(step(), 8..=16)
}

/// One stack as CloudFormation and the shadow model see it.
#[derive(Debug, Default)]
struct Stack {
    name: String,
    /// The StackId while the stack exists in moto's CloudFormation.
    stack_id: Option<String>,
    /// The resource: its physical id and properties.
    resource: Option<(String, Map<String, Value>)>,
    /// Lowercased names of the last successful config (None: none, or the record
    /// was deleted by hand since).
    lists: Option<HashSet<String>>,
    /// The sync profile of the last successful config.
    profile: String,
    /// The names its record holds (its last successful config, whatever the console
    /// did since; None when the record was deleted by hand).
    recorded: Option<HashSet<String>>,
    /// Filters created during this stack's requests.
    created: HashSet<Located>,
    /// Someone else acted on the scope since this stack's last successful run (the
    /// console, the other stack, whose record may no longer protect a name): a
    /// rollback may then meet the deletion guard, which is there for such removals.
    drifted: bool,
}

struct Sim<'d, D: Driver> {
    driver: &'d D,
    stacks: [Stack; 2],
    /// A record was deleted by hand: what it knew is forgotten.
    forgotten: bool,
    /// The emulator answers 30 % of calls with a 500 after applying them.
    faults_on: bool,
    /// Names a resource kept when it was deleted with `OnDelete: retain` (they stay),
    /// by profile.
    retained: HashSet<(String, String)>,
    owners: String,
    log: Vec<String>,
}

impl<'d, D: Driver> Sim<'d, D> {
    fn new(driver: &'d D, case: u32) -> Self {
        let base = format!("CoOwn{:08x}", fastrand::u32(..) ^ case);
        let stack = |i: usize| Stack {
            name: format!("{base}-S{i}"),
            profile: PROFILE.to_owned(),
            ..Stack::default()
        };
        Self {
            driver,
            stacks: [stack(0), stack(1)],
            forgotten: false,
            faults_on: false,
            retained: HashSet::new(),
            owners: format!("/syncscope-model/{base}/owners"),
            log: Vec::new(),
        }
    }

    fn trail(&self) -> String {
        format!("what happened:\n  {}", self.log.join("\n  "))
    }

    fn names(&self, i: usize) -> ParameterNames {
        ParameterNames {
            owners: self.owners.clone(),
            ..ParameterNames::for_stack(&self.stacks[i].name)
        }
    }

    fn listed(c: Cfg) -> Vec<&'static str> {
        NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| c.groups & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect()
    }

    /// Writes stack `i`'s filters for `c` the way the deployment does.
    fn deploy(&self, i: usize, c: Cfg) -> Map<String, Value> {
        let groups = Self::listed(c);
        let mut extra = json!({
            "Mode": if c.authoritative { "authoritative" } else { "managed" },
            "OnDelete": if c.remove { "remove" } else { "retain" },
        });
        if c.open_guard {
            extra["DeletionGuard"] = json!({ "MaxRemovals": 100, "MaxRemovalPercent": 100 });
        }
        if c.profile_b {
            extra["SyncProfileName"] = json!("ProfileB");
        }
        let config = config_with(&groups, extra);
        crate::model::deployed(self.driver, &config, &self.names(i), &groups)
    }

    fn event(
        &self,
        i: usize,
        request_type: &str,
        props: &Map<String, Value>,
        old: Option<&Map<String, Value>>,
        id: Option<&str>,
    ) -> Value {
        let stack_id = self.stacks[i].stack_id.as_deref().unwrap_or_default();
        crate::model::cfn_event(self.driver, request_type, stack_id, props, old, id)
    }

    /// The lowercased names in a profile's scope now.
    fn names_in(&self, profile: &str) -> HashSet<String> {
        ids(&Engine::SyncFilters.scopes(self.driver))
            .into_iter()
            .filter(|((r, p, _), _)| *r == 0 && p == profile)
            .map(|(_, n)| n.to_lowercase())
            .collect()
    }

    /// Delivers one request of stack `i`; checks one answer and that no name the
    /// other live stack lists went away; returns the answer.
    fn send(&mut self, i: usize, event: Value) -> Value {
        let before_ids = ids(&Engine::SyncFilters.scopes(self.driver));
        let watched = self.stacks[1 - i].profile.clone();
        let before = self.names_in(&watched);
        let responses = self.driver.deliver(&event);
        crate::model::REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let answer = responses.first().cloned().unwrap_or(Value::Null);
        self.log.push(format!(
            "S{i} {} {} -> {} ({})",
            event["RequestType"].as_str().unwrap_or_default(),
            event["PhysicalResourceId"].as_str().unwrap_or("-"),
            answer["Status"].as_str().unwrap_or("NO ANSWER"),
            answer["Reason"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(240)
                .collect::<String>()
        ));
        assert_eq!(
            responses.len(),
            1,
            "exactly one answer per delivery\n{}",
            self.trail()
        );
        let now_ids = ids(&Engine::SyncFilters.scopes(self.driver));
        for created in now_ids.keys().filter(|k| !before_ids.contains_key(*k)) {
            self.stacks[i].created.insert(created.clone());
        }
        let after = self.names_in(&watched);
        // What the other stack's next run meets changed: the scope, or this stack's
        // record (a name it no longer lists is no longer protected).
        self.stacks[1 - i].drifted = true;
        let other = &self.stacks[1 - i];
        if other.stack_id.is_some()
            && let Some(lists) = &other.lists
        {
            for name in lists {
                assert!(
                    !before.contains(name) || after.contains(name),
                    "S{i} removed {name}, which the live S{} lists\n{}",
                    1 - i,
                    self.trail()
                );
            }
        }
        answer
    }

    /// Records a successful deployment of `props` and checks its names are there.
    fn deployed(&mut self, i: usize, id: String, props: Map<String, Value>) {
        let lists: HashSet<String> = props["ModelGroups"]
            .as_str()
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase)
            .collect();
        let profile = profile_of(&props);
        let now = self.names_in(&profile);
        for name in &lists {
            assert!(
                now.contains(name),
                "after S{i}'s successful deployment, {name} is not in {profile}\n{}",
                self.trail()
            );
        }
        self.stacks[i].profile = profile;
        self.stacks[i].recorded = Some(lists.clone());
        self.stacks[i].lists = Some(lists);
        self.stacks[i].resource = Some((id, props));
        self.stacks[i].drifted = false;
    }

    fn create(&mut self, i: usize, props: Map<String, Value>) {
        let cfn = self.driver.cfn();
        let stack_id = self
            .driver
            .rt()
            .block_on(
                cfn.create_stack()
                    .stack_name(&self.stacks[i].name)
                    .template_body(
                        r#"{"Resources":{"Nothing":{"Type":"AWS::CloudFormation::WaitConditionHandle"}}}"#,
                    )
                    .send(),
            )
            .unwrap()
            .stack_id()
            .unwrap()
            .to_owned();
        self.stacks[i].stack_id = Some(stack_id);
        let answer = self.send(i, self.event(i, "Create", &props, None, None));
        let id = answer["PhysicalResourceId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if answer["Status"] == "SUCCESS" {
            self.deployed(i, id, props);
        } else {
            // ROLLBACK: CloudFormation deletes what the Create answered, then the stack.
            let back =
                self.send_until_recovered(i, |s| s.event(i, "Delete", &props, None, Some(&id)));
            assert_eq!(
                back["Status"],
                "SUCCESS",
                "a failed Create's rollback Delete\n{}",
                self.trail()
            );
            self.gone(i);
        }
    }

    /// The stack is deleted in CloudFormation.
    fn gone(&mut self, i: usize) {
        if let Some(stack_id) = self.stacks[i].stack_id.take() {
            self.driver
                .rt()
                .block_on(
                    self.driver
                        .cfn()
                        .delete_stack()
                        .stack_name(&stack_id)
                        .send(),
                )
                .unwrap();
        }
        self.stacks[i].resource = None;
        self.stacks[i].lists = None;
        self.stacks[i].recorded = None;
    }

    /// Sends a request CloudFormation must see succeed (a rollback, a Delete): when it
    /// fails while the backend is faulty, the backend recovers and the request is
    /// sent again ("continue update rollback", a retried Delete).
    fn send_until_recovered(&mut self, i: usize, event: impl Fn(&Self) -> Value) -> Value {
        let answer = self.send(i, event(self));
        if answer["Status"] == "SUCCESS" || !self.faults_on {
            return answer;
        }
        self.log
            .push("the backend recovers; CloudFormation tries again".into());
        self.set_faults(false, 0);
        self.send(i, event(self))
    }

    fn set_faults(&mut self, on: bool, seed: u64) {
        self.faults_on = on;
        let knobs = if on {
            json!({ "fault_rate": 0.0, "fault_after_rate": 0.3, "fail_filters": {}, "fault_seed": seed })
        } else {
            json!({ "fault_rate": 0.0, "fault_after_rate": 0.0, "fail_filters": {} })
        };
        self.driver.emulator(0).update_knobs(&knobs).unwrap();
    }

    /// An Update; `fails`: how it goes wrong (None: it does not).
    fn update(&mut self, i: usize, props: Map<String, Value>, fails: Option<Failure>) {
        let Some((id, old)) = self.stacks[i].resource.clone() else {
            return self.create(i, props);
        };
        if props == old {
            return;
        }
        if let Some(Failure::Midway(n)) = fails {
            self.driver
                .emulator(0)
                .update_knobs(&json!({ "fail_filters": { NAMES[usize::from(n) % NAMES.len()]: "ValidationException" } }))
                .unwrap();
        }
        let answer = self.send(i, self.event(i, "Update", &props, Some(&old), Some(&id)));
        if let Some(Failure::Midway(_)) = fails {
            self.driver
                .emulator(0)
                .update_knobs(&json!({ "fail_filters": {} }))
                .unwrap();
        }
        let succeeded = answer["Status"] == "SUCCESS";
        let new_id = answer["PhysicalResourceId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if succeeded && fails != Some(Failure::Elsewhere) {
            if new_id != id {
                // A replacement: CloudFormation deletes the old id, with the old
                // properties, in its clean-up (and ignores the answer).
                self.cleanup(i, &id, &old);
            }
            return self.deployed(i, new_id, props);
        }
        // CloudFormation's rollback Update, with the properties swapped: it succeeds
        // unless the scope drifted since the stack's last run (then the guard may
        // refuse removals that are not this stack's own undo, which is its job).
        let drifted = self.stacks[i].drifted;
        if !succeeded && profile_of(&props) != profile_of(&old) && props["OnDelete"] != "remove" {
            // The rollback lets the failed replacement's resource go as its OnDelete
            // says: retain keeps what it made in the other profile.
            self.keep_what(&props);
        }
        let current = if succeeded {
            new_id.clone()
        } else {
            id.clone()
        };
        let back = self.send_until_recovered(i, |s| {
            s.event(i, "Update", &old, Some(&props), Some(&current))
        });
        if back["Status"] == "SUCCESS" {
            let back_id = back["PhysicalResourceId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if succeeded && back_id != new_id {
                // The replacing resource the rollback abandons is deleted.
                self.cleanup(i, &new_id, &props);
            }
            return self.deployed(i, back_id, old);
        }
        assert!(
            drifted,
            "the rollback Update of S{i} did not succeed\n{}",
            self.trail()
        );
        // UPDATE_ROLLBACK_FAILED, continued by a person skipping the resource: it
        // keeps its old properties; what it lists is unknown until its next run.
        self.log
            .push("UPDATE_ROLLBACK_FAILED: continued, skipping the resource".into());
        self.stacks[i].resource = Some((id, old));
        self.stacks[i].lists = None;
        // Which config its record holds is the person's business now.
        self.stacks[i].recorded = None;
        self.forgotten = true;
    }

    /// CloudFormation's Delete of a replaced resource (its answer is ignored).
    fn cleanup(&mut self, i: usize, id: &str, props: &Map<String, Value>) {
        let answer = self.send(i, self.event(i, "Delete", props, None, Some(id)));
        if answer["Status"] != "SUCCESS" || props["OnDelete"] != "remove" {
            self.keep_what(props);
        }
    }

    /// A Delete leaves the names the other live stack lists to it: from then on they
    /// are that stack's. If that stack later goes back to a config from before it
    /// adopted one, it releases it (it existed before), and the name stays in the
    /// scope unmanaged: README names this limit, so the last check allows it.
    fn hand_over(&mut self, i: usize, props: &Map<String, Value>) {
        let profile = profile_of(props);
        let other = &self.stacks[1 - i];
        if other.stack_id.is_none() || other.profile != profile {
            return;
        }
        if let Some(lists) = &other.lists {
            for name in lists {
                self.retained.insert((profile.clone(), name.clone()));
            }
        }
    }

    /// What a resource of `props` listed stays when it is let go (retain).
    fn keep_what(&mut self, props: &Map<String, Value>) {
        let profile = profile_of(props);
        for name in props["ModelGroups"].as_str().unwrap_or_default().split(',') {
            if !name.is_empty() {
                self.retained.insert((profile.clone(), name.to_lowercase()));
            }
        }
    }

    fn delete(&mut self, i: usize) {
        let Some((id, props)) = self.stacks[i].resource.clone() else {
            return;
        };
        for attempt in 0..3 {
            let answer =
                self.send_until_recovered(i, |s| s.event(i, "Delete", &props, None, Some(&id)));
            if answer["Status"] == "SUCCESS" {
                self.hand_over(i, &props);
                if props["OnDelete"] != "remove" {
                    match &self.stacks[i].recorded {
                        Some(_) => self.keep_what(&props),
                        None => self.forgotten = true,
                    }
                }
                return self.gone(i);
            }
            assert!(
                attempt < 2,
                "the Delete of S{i} never succeeded\n{}",
                self.trail()
            );
        }
    }

    fn step(&mut self, step: Step) {
        self.log.push(format!("-- {step:?}"));
        match step {
            Step::Deploy(i, c) => {
                let props = self.deploy(i.into(), c);
                self.update(i.into(), props, None);
            }
            Step::DeployFailingElsewhere(i, c) => {
                let props = self.deploy(i.into(), c);
                self.update(i.into(), props, Some(Failure::Elsewhere));
            }
            Step::DeployFailingMidway(i, c, n) => {
                let props = self.deploy(i.into(), c);
                self.update(i.into(), props, Some(Failure::Midway(n)));
            }
            Step::Delete(i) => self.delete(i.into()),
            Step::RecordDeletedByHand(i) => {
                let i = usize::from(i);
                let path = format!(
                    "{}/eu-central-1/{}/{}",
                    self.owners, self.stacks[i].profile, self.stacks[i].name
                );
                let ssm = self.driver.ssm().clone();
                let names: Vec<String> = self
                    .driver
                    .rt()
                    .block_on(ParameterStore::new(ssm.clone()).read_path(&path))
                    .unwrap()
                    .into_iter()
                    .map(|(n, _)| n)
                    .collect();
                for chunk in names.chunks(10) {
                    self.driver
                        .rt()
                        .block_on(
                            ssm.delete_parameters()
                                .set_names(Some(chunk.to_vec()))
                                .send(),
                        )
                        .unwrap();
                }
                if !names.is_empty() {
                    self.forgotten = true;
                    self.stacks[i].lists = None;
                    self.stacks[i].recorded = None;
                    // What the other stack's next run may remove changed.
                    self.stacks[1 - i].drifted = true;
                }
            }
            Step::Console(add, config_name, n) => {
                let edit = crate::model::console_edit(
                    self.driver,
                    Engine::SyncFilters,
                    (add, config_name, n),
                    PROFILE,
                    0,
                );
                if let crate::model::ConsoleEdit::Deleted(_, name) = edit {
                    // A name the console deletes is not listed until its stack's next
                    // successful run puts it back.
                    for stack in &mut self.stacks {
                        if let Some(lists) = &mut stack.lists {
                            lists.remove(&name.to_lowercase());
                        }
                    }
                }
                for stack in &mut self.stacks {
                    stack.drifted = true;
                }
            }
            Step::Faults(on, seed) => self.set_faults(on, seed),
        }
    }

    /// The end: faults cleared, each live stack told `OnDelete: remove` and deleted;
    /// nothing either created remains.
    fn finish(&mut self) {
        self.set_faults(false, 0);
        self.log
            .push("-- the end: both stacks set to remove and deleted".into());
        for i in 0..2 {
            if let Some((_, props)) = self.stacks[i].resource.clone() {
                let mut remove = props.clone();
                remove.insert("OnDelete".into(), json!("remove"));
                self.update(i, remove, None);
            }
        }
        for i in 0..2 {
            self.delete(i);
        }
        if self.forgotten {
            return;
        }
        let now = ids(&Engine::SyncFilters.scopes(self.driver));
        let left: Vec<String> = self
            .stacks
            .iter()
            .flat_map(|s| s.created.iter())
            .filter(|c| {
                now.get(*c)
                    .is_some_and(|n| !self.retained.contains(&(c.1.clone(), n.to_lowercase())))
            })
            .map(|c| now[c].clone())
            .collect();
        assert!(
            left.is_empty(),
            "both stacks were deleted with OnDelete remove, but what they created remains: {left:?}\n{}",
            self.trail()
        );
    }
}

/// The sync profile a resource's properties name.
fn profile_of(props: &Map<String, Value>) -> String {
    props["SyncProfileName"]
        .as_str()
        .unwrap_or(PROFILE)
        .to_owned()
}

/// How an Update goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// It succeeds, and another resource fails.
    Elsewhere,
    /// The service refuses `G-n` during it.
    Midway(u8),
}

fn run<D: Driver>(driver: &D, case: u32, steps: &[Step]) {
    for region in 0..driver.regions() {
        driver.emulator(region).reset(Some(&seed())).unwrap();
    }
    let mut sim = Sim::new(driver, case);
    for step in steps {
        sim.step(*step);
    }
    sim.finish();
}

fn campaign<D: Driver>(driver: &D, cases: u32) {
    let started = std::time::Instant::now();
    let (ran, result) = crate::model::run_sequences(cases, 300, &sequence(), |case, steps| {
        run(driver, case, steps)
    });
    eprintln!(
        "two-stack model: {ran} sequences in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if let Err(e) = result {
        panic!(
            "the two-stack model found a failing sequence; replay it with `replay(&[...])`:\n{e}"
        );
    }
}

/// Replays one sequence in process (kept failures become named tests with this).
#[allow(dead_code)]
fn replay(steps: &[Step]) {
    in_process(|driver| run(driver, 0, steps));
}

#[test]
fn the_two_stack_model_holds_in_process() {
    in_process(|driver| campaign(driver, cases("SYNCSCOPE_MODEL_CASES", 300)));
}

#[test]
fn the_two_stack_model_holds_through_the_real_binary() {
    let driver = Binary::start();
    campaign(&driver, cases("SYNCSCOPE_MODEL_BINARY_CASES", 20));
}
