package nl.kring.android

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.distinctUntilChanged
import kotlinx.coroutines.flow.filterIsInstance
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import nl.kring.ffi.ChangeOrigin
import nl.kring.ffi.CircleHandle
import nl.kring.ffi.CircleId
import nl.kring.ffi.CircleSnapshot
import nl.kring.ffi.EntryId
import nl.kring.ffi.KringException
import nl.kring.ffi.MemberView
import nl.kring.ffi.MyPlace
import nl.kring.ffi.PlanObserver
import nl.kring.ffi.SyncReport
import nl.kring.ffi.SyncStatus
import nl.kring.ffi.TaskId
import nl.kring.ffi.TaskView

/** What a circle screen shows: loading, the current snapshot, or why it could not be read. */
sealed interface PlanState {
    data object Loading : PlanState

    /**
     * The plan, and how it stands with the relay: `sync.connectivity` (online, offline,
     * not synced yet, ...), `sync.pending` (my changes not sent yet), `sync.lastSyncedAt`.
     */
    data class Ready(val snapshot: CircleSnapshot, val sync: SyncStatus) : PlanState

    data class Failed(val error: KringException) : PlanState
}

/**
 * The "my plan" screen: the circle's tasks grouped by what they mean for me.
 *
 * Only grouping happens here; every fact used (`isOpen`, `canClaim`, `myPlace`) is
 * computed by kring-core, so Android and iOS cannot disagree about it.
 */
data class MyPlan(
    val circleName: String,
    /** Who I am in this circle (null only if I was removed from it). */
    val me: MemberView?,
    /** Tasks I hold a place on that still need doing. */
    val doing: List<TaskView>,
    /** Tasks I claimed while someone else took the last place first: "already taken". */
    val alreadyTaken: List<TaskView>,
    /** Tasks I can claim right now. */
    val canHelpWith: List<TaskView>,
)

/** Groups a snapshot for the "my plan" screen. */
fun myPlanOf(snapshot: CircleSnapshot): MyPlan {
    // `snapshot.tasks` holds the facts of `snapshot.view.tasks`, in the same order.
    val tasks = snapshot.view.tasks.zip(snapshot.tasks)
    fun where(keep: (nl.kring.ffi.TaskFacts) -> Boolean) = tasks.filter { (_, facts) -> keep(facts) }.map { it.first }
    return MyPlan(
        circleName = snapshot.view.circle.name,
        me = snapshot.view.members.firstOrNull { it.id == snapshot.me },
        doing = where { it.myPlace == MyPlace.DOING && it.isOpen },
        alreadyTaken = where { it.myPlace == MyPlace.TOO_LATE && it.isOpen },
        canHelpWith = where { it.canClaim },
    )
}

/** The outcome of "claim this task", as the screen needs to tell it. */
sealed interface ClaimResult {
    data object Claimed : ClaimResult

    /** Every place was taken before mine arrived. */
    data object AlreadyTaken : ClaimResult

    /** I had already claimed it (a double tap, another screen). */
    data object AlreadyMine : ClaimResult

    /** Cancelled, archived or done in the meantime. */
    data object NoLongerOpen : ClaimResult

    data class Failed(val error: KringException) : ClaimResult
}

/** The outcome of "sync now" (pull to refresh), as the screen needs to tell it. */
sealed interface SyncResult {
    data class Synced(val report: SyncReport) : SyncResult

    /** The relay could not be reached; my changes wait on the device for a later sync. */
    data class Offline(val error: KringException.Network) : SyncResult

    /** This circle does not sync: no relay set, or it came from a file. */
    data class NotSyncing(val error: KringException) : SyncResult

    data class Failed(val error: KringException) : SyncResult
}

/**
 * One circle for the app's screens: a [StateFlow] of its plan that follows every change
 * (this device's and, through [PlanObserver], other devices' changes from sync, live
 * mode or a merge), its sync status, and the actions people take on it.
 *
 * Local calls into Kring block on local storage, so they run on [io]; [sync] suspends.
 * Live mode is the client's (`KringClient.startWatching`): its changes arrive here
 * through the observer too. Close the repository when the screen's scope ends; that
 * unregisters its observer.
 */
class PlanRepository(
    private val circle: CircleHandle,
    scope: CoroutineScope,
    private val io: CoroutineDispatcher = Dispatchers.IO,
) : AutoCloseable {
    private val _state = MutableStateFlow<PlanState>(PlanState.Loading)

    /** The plan as the screens show it; starts [PlanState.Loading]. */
    val state: StateFlow<PlanState> = _state.asStateFlow()

    /** The "my plan" screen's content, each time the plan changes. */
    val myPlan: Flow<MyPlan> =
        state.filterIsInstance<PlanState.Ready>().map { myPlanOf(it.snapshot) }.distinctUntilChanged()

    val circleId: CircleId = circle.circleId()

    private val _syncing = MutableStateFlow(false)

    /** Whether a [sync] is running (a pull-to-refresh spinner). */
    val syncing: StateFlow<Boolean> = _syncing.asStateFlow()

    // One sync at a time: a second "sync now" waits for the first, then syncs again.
    private val syncLock = Mutex()

    // Conflated: a burst of changes needs one re-read, not one per change.
    private val changes = Channel<Unit>(Channel.CONFLATED)

    // Serialises read-and-publish, so an older snapshot never overwrites a newer one.
    private val publishing = Mutex()

    private val observerId: ULong =
        circle.addObserver(
            object : PlanObserver {
                override fun onPlanChanged(circleId: CircleId, origin: ChangeOrigin) {
                    changes.trySend(Unit)
                }
            },
        )

    private val job =
        scope.launch(io) {
            refresh()
            for (change in changes) refresh()
        }

    /** Re-reads the plan and publishes it. */
    suspend fun refresh() =
        withContext(io) {
            publishing.withLock {
                _state.value =
                    try {
                        PlanState.Ready(circle.snapshot(), circle.status())
                    } catch (e: KringException) {
                        PlanState.Failed(e)
                    }
            }
        }

    /** "Claim this task". When it returns, [state] already shows the outcome. */
    suspend fun claim(taskId: TaskId): ClaimResult =
        withContext(io) {
            val result =
                try {
                    circle.claimTask(taskId)
                    ClaimResult.Claimed
                } catch (e: KringException.TaskFull) {
                    ClaimResult.AlreadyTaken
                } catch (e: KringException.AlreadyClaimed) {
                    ClaimResult.AlreadyMine
                } catch (e: KringException.TaskClosed) {
                    ClaimResult.NoLongerOpen
                } catch (e: KringException) {
                    ClaimResult.Failed(e)
                }
            refresh()
            result
        }

    /**
     * "Sync now": sends my changes and fetches the others'. When it returns, [state]
     * shows the outcome (the plan and the sync status); failures are results, not
     * exceptions, because being offline is normal.
     */
    suspend fun sync(): SyncResult =
        syncLock.withLock {
            _syncing.value = true
            try {
                val result =
                    try {
                        SyncResult.Synced(circle.sync())
                    } catch (e: KringException.Network) {
                        SyncResult.Offline(e)
                    } catch (e: KringException.NoRelay) {
                        SyncResult.NotSyncing(e)
                    } catch (e: KringException.LocalOnly) {
                        SyncResult.NotSyncing(e)
                    } catch (e: KringException) {
                        SyncResult.Failed(e)
                    }
                refresh()
                result
            } finally {
                _syncing.value = false
            }
        }

    /** Gives my place on a task back. */
    suspend fun unclaim(taskId: TaskId) = act { circle.unclaimTask(taskId) }

    /** Marks a task (a recurring task: its latest occurrence) done, with an optional note. */
    suspend fun complete(taskId: TaskId, note: String = ""): EntryId = act { circle.completeTask(taskId, null, note) }

    /** Runs an action on [io], then publishes the new plan; failures are thrown as [KringException]. */
    private suspend fun <T> act(action: () -> T): T =
        withContext(io) {
            try {
                action()
            } finally {
                refresh()
            }
        }

    override fun close() {
        circle.removeObserver(observerId)
        changes.close()
        job.cancel()
    }
}
